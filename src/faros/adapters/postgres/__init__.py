"""PostgreSQL adapter: schema, migrations, engine, embedded server and repositories."""
