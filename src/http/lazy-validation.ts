import { AjvCompiler } from '@fastify/ajv-compiler';

/**
 * Fastify's own validator compiler (Ajv, through @fastify/ajv-compiler, with the options the server
 * gives it), made lazy: a route's schema is compiled on the route's first request instead of when the
 * server starts. Compiling every route's schemas took most of the start-up's CPU (about 0.8 s of 1.9 s
 * on a 2-core machine), and a process serves few of its routes soon after it starts (a test file, a
 * worker, a restart during an incident). The first request of a route pays its compile (milliseconds).
 *
 * `compileAll` compiles whatever has not been compiled yet, so a test can still prove that every
 * route's schema compiles without waiting for each route to be called.
 */

type ValidatorBuilder = ReturnType<typeof AjvCompiler>;
type RouteCompiler = ReturnType<ValidatorBuilder>;
type RouteDefinition = Parameters<RouteCompiler>[0];
type Validate = ReturnType<RouteCompiler>;

/** What Fastify's validation reads from a validator besides calling it (fastify/lib/validation.js). */
interface LazyValidate {
  (data: unknown, context?: unknown): unknown;
  errors?: Validate['errors'];
  /** Ajv's validators have it; Fastify then passes the parent, so that Ajv may coerce a root value. */
  schemaEnv?: unknown;
}

export interface LazyValidators {
  /** Fastify's `schemaController.compilersFactory.buildValidator`. */
  buildValidator: ValidatorBuilder;
  /** Compiles every route schema not compiled yet; returns how many there were. Throws what Ajv throws. */
  compileAll(): number;
}

export function createLazyValidators(): LazyValidators {
  const ajvBuilder = AjvCompiler();
  const pending = new Set<() => void>();

  const buildValidator = ((externalSchemas, options) => {
    const compile = ajvBuilder(externalSchemas, options);
    return (route: RouteDefinition) => {
      let compiled: Validate | undefined;
      const compileNow = (): Validate => {
        pending.delete(compileNow);
        compiled ??= compile(route);
        return compiled;
      };
      pending.add(compileNow);
      const validate: LazyValidate = (data, context) => {
        const real = compiled ?? compileNow();
        const valid = (real as (data: unknown, context?: unknown) => unknown)(data, context);
        validate.errors = real.errors;
        return valid;
      };
      // Every validator Ajv compiles has it, and Fastify decides by it whether to pass the parent.
      validate.schemaEnv = true;
      return validate as unknown as Validate;
    };
  }) as ValidatorBuilder;

  return {
    buildValidator,
    compileAll() {
      const left = [...pending];
      for (const compileNow of left) compileNow();
      return left.length;
    },
  };
}
