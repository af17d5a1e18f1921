/**
 * Registers every built-in optimizer: import this module once to fill the registry.
 *
 * @module
 */

import "./protes.ts";
import "./ttopt.ts";
