-- @tag tap
SELECT plan(2);
SELECT is(tagged_add(2, 2), 4, 'adds');
SELECT is(tagged_add(NULL, 2), NULL, 'strict');
SELECT * FROM finish();
