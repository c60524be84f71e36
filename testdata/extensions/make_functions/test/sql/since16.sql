SELECT pg_input_is_valid('42', 'integer'), pg_input_is_valid('forty-two', 'integer');
