\echo Use "CREATE EXTENSION c_func" to load this file. \quit
CREATE FUNCTION c_times_two(integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'c_times_two' LANGUAGE C IMMUTABLE STRICT;
