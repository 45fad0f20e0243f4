-- PostgreSQL compresses large text values (TOAST) with pglz unless told otherwise; for
-- delivery bodies (typically 12 KB of JSON) lz4 costs intake a fraction of the CPU.
-- Needs PostgreSQL 14+ built with lz4; elsewhere the column keeps the default (dynamic
-- SQL, so that an older server's parser never sees the clause).
DO $$
BEGIN
    EXECUTE 'ALTER TABLE deliveries ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION WHEN others THEN
    RAISE NOTICE 'deliveries.body keeps the default compression: %', SQLERRM;
END
$$;
