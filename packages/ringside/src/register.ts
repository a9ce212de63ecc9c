// `node --import ringside/register app.mjs`: instruments the app's own modules as they load and
// starts a pipeline for them, with no change to the app (@ringside/instrument/register).
import '@ringside/instrument/register'
