-- @tag smoke
\i test/common.sql
SELECT tagged_add(1, 2) AS three;
