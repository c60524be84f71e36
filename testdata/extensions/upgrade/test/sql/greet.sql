SELECT greet('farm'), farewell('farm');
