from bot.runtime import load_features, migration_namespaces
from bot.store.migrate import discover, migrate, split_statements


async def test_migrations_apply_once(db):
    # The fixture migrated already: a second run applies nothing and keeps the data.
    await db.execute("INSERT INTO repo_installations (repo, installation_id, updated_at) VALUES (?, ?, ?)",
                     ("o/r", 1, 0.0))
    assert await migrate(db, migration_namespaces(load_features())) == []
    assert await db.fetchval("SELECT COUNT(*) FROM repo_installations") == 1
    versions = await db.fetchall("SELECT namespace, version FROM schema_migrations WHERE namespace = 'core'"
                                 " ORDER BY version")
    expected = [m.version for m in discover("core", "bot.store.migrations", db.dialect)]
    assert expected[0] == 1 and [v["version"] for v in versions] == expected


def test_dialect_placeholders():
    sqlite = discover("core", "bot.store.migrations", "sqlite")[0].sql
    pg = discover("core", "bot.store.migrations", "postgresql")[0].sql
    assert "AUTOINCREMENT" in sqlite and "BIGSERIAL" in pg and "{{" not in sqlite + pg


def test_split_statements_ignores_comments():
    assert split_statements("-- a; b\nCREATE TABLE x (a INT);\n\nCREATE INDEX i ON x (a);") == [
        "CREATE TABLE x (a INT)", "CREATE INDEX i ON x (a)"]


def test_split_statements_keeps_dollar_quoted_bodies_whole():
    sql = "CREATE TABLE x (a INT);\nDO $$\nBEGIN\n    EXECUTE 'SELECT 1';\nEND\n$$;\nCREATE INDEX i ON x (a);"
    assert split_statements(sql) == ["CREATE TABLE x (a INT)", "DO $$\nBEGIN\n    EXECUTE 'SELECT 1';\nEND\n$$",
                                     "CREATE INDEX i ON x (a)"]


async def test_postgresql_compresses_delivery_bodies_with_lz4_where_available(db):
    if db.dialect != "postgresql":
        # SQLite: the body is compressed by the store itself (a BLOB in the body column).
        from bot.store import deliveries
        await deliveries.insert(db, delivery_id="z", event="issues", action="", repo="o/r", subject="o/r",
                                installation_id=None, body='{"x": "' + "y" * 5000 + '"}')
        raw = await db.fetchval("SELECT body FROM deliveries WHERE delivery_id = 'z'")
        assert isinstance(raw, bytes) and len(raw) < 500
        return
    lz4_built_in = await db.fetchval("SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression'"
                                     " AND 'lz4' = ANY(enumvals)")
    method = await db.fetchval("SELECT attcompression FROM pg_attribute"
                               " WHERE attrelid = 'deliveries'::regclass AND attname = 'body'")
    assert method == ("l" if lz4_built_in else "")
