SELECT c_times_two(21);
