\echo Use "CREATE EXTENSION pure_sql" to load this file. \quit
CREATE FUNCTION add_one(integer) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 + 1';
CREATE FUNCTION server_era() RETURNS text
    LANGUAGE sql STABLE
    AS $$SELECT CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'new' ELSE 'old' END$$;
