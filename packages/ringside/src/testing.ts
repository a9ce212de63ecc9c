// `ringside/testing`: the fault-injection store and the throwaway PostgreSQL and NATS servers of
// '@ringside/storage/testing', for drills, soaks and an application's own tests.
export * from '@ringside/storage/testing'
