// `ringside/instrument`: capture from a running app (@ringside/instrument): traced functions,
// traced methods, correlation, and the watchers of Node's HTTP, worker and error events.
export * from '@ringside/instrument'
