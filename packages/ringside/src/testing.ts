// `ringside/testing`: the fault-injection store and the throwaway PostgreSQL and NATS servers of
// '@ringside/storage/testing', for drills, soaks and an application's own tests; and the stage
// harness of '@ringside/async-writer/testing' (runStages, RecordingStore).
export * from '@ringside/storage/testing'
export * from '@ringside/async-writer/testing'
