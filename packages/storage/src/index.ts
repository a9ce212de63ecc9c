// Public surface of @ringside/storage.
export {}
