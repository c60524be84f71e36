SELECT twice(21);
