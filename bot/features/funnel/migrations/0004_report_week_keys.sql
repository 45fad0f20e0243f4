-- `report weekly --week 2026-W3` once stored its week as typed: a second key for 2026-W03
-- that also sorted wrongly. Weeks are YYYY-Www now; pad the old ones (where both exist,
-- the week was posted twice and the padded row stays).
DELETE FROM funnel_reports
 WHERE week LIKE '____-W_' AND EXISTS (
     SELECT 1 FROM funnel_reports padded
      WHERE padded.repo = funnel_reports.repo
        AND padded.week = substr(funnel_reports.week, 1, 6) || '0' || substr(funnel_reports.week, 7));
UPDATE funnel_reports SET week = substr(week, 1, 6) || '0' || substr(week, 7) WHERE week LIKE '____-W_';
