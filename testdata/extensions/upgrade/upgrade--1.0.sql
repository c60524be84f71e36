\echo Use "CREATE EXTENSION upgrade" to load this file. \quit
CREATE FUNCTION greet(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'hello ' || $1$$;
