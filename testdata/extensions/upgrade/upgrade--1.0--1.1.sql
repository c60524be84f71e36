\echo Use "ALTER EXTENSION upgrade UPDATE TO '1.1'" to load this file. \quit
CREATE OR REPLACE FUNCTION greet(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'hello, ' || $1$$;
CREATE FUNCTION farewell(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'bye, ' || $1$$;
