-- @tag slow, smoke
SELECT sum(tagged_add(i, i)) AS total FROM generate_series(1, 1000) AS i;
