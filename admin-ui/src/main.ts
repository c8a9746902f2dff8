/** Entry of the web UI bundle. */
import './app.ts'
