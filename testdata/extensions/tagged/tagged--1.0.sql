CREATE FUNCTION tagged_add(a integer, b integer) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT AS 'SELECT a + b';
