-- When the bot processed the item's opening (or first met it): labels the bot adds in
-- that same delivery count from the opening even when the delivery ran late.
ALTER TABLE sla_items ADD COLUMN seen_at DOUBLE PRECISION;
