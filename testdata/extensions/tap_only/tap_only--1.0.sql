\echo Use "CREATE EXTENSION tap_only" to load this file. \quit
CREATE FUNCTION is_even(integer) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 % 2 = 0';
