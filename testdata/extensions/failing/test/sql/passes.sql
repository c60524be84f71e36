SELECT two();
