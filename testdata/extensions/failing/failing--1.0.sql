\echo Use "CREATE EXTENSION failing" to load this file. \quit
CREATE FUNCTION two() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 2';
