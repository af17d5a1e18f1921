/**
 * Registers every built-in optimizer: import this module once to fill the registry.
 *
 * @module
 */

import "./protes.ts";
import "./ttopt.ts";
import "./cma.ts";
import "./cma_diag.ts";
import "./de.ts";
import "./twopointsde.ts";
import "./oneplusone.ts";
import "./portfolio.ts";
import "./spsa.ts";
import "./noisybandit.ts";
import "./pso.ts";
import "./ga.ts";
import "./random.ts";
import "./hammersley.ts";
