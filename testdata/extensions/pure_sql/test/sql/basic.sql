SELECT add_one(41);
SELECT add_one(NULL) IS NULL AS strict;
