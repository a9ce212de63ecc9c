// Public surface of @ringside/async-writer (built in a later issue).
export {}
