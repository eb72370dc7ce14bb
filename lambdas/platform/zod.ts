/**
 * The schema library of the functions: `zod/mini`, the tree-shakable build of zod 4, with the
 * English messages (`import * as z from '../platform/zod'`). Classic `zod` puts every method on
 * every schema, so a bundle keeps about 80 KiB of it whatever it uses; `zod/mini` keeps only the
 * checks a schema names (22-32 KiB per bundle; issue 14: import time). Its messages are the
 * classic build's own (`en` of `zod/locales`, which classic zod installs at import), so operators
 * read the same "Too small: expected string to have >=1 characters" as before.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
