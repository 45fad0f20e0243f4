-- When a repository's stored name was seen, so that importing an older hour (which may
-- carry a name the repository had before a rename) does not rename it back.
-- Rows from before this column count as oldest: any dated name replaces them.
ALTER TABLE funnel_repos ADD COLUMN name_seen_at BIGINT NOT NULL DEFAULT 0;
