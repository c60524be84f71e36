-- The expected output differs by major: era.out (16+) and era_1.out (13-15).
SELECT server_era();
