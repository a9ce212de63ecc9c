// The memory adapter against the contract suite.
import { createStore } from '../src/index.js'
import { runStoreContract } from './contract.js'

runStoreContract('memory', () => createStore({ kind: 'memory' }), {
  badSpecs: [
    { spec: { kind: 'memroy' }, field: 'kind' },
    { spec: { kind: 'memory', path: 'x.db' }, field: 'path' },
    { spec: {}, field: 'kind' },
    { spec: null, field: 'spec' },
  ],
})
