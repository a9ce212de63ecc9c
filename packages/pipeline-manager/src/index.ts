// Public surface of @ringside/pipeline-manager (built in a later issue).
export {}
