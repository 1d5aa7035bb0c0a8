/** The verdict JSON of CONTRACTS.md. Every `score` is 0..1, higher = more likely the flagged condition. */

export type Support = 'supported' | 'unsupported' | 'contradicted';

/**
 * Why a claim is not supported. The first five describe text claims against context or samples;
 * `tool_name` and `tool_arguments` describe tool calls that fail their declared tools.
 */
export type FailureMode = 'number' | 'entity' | 'negation' | 'reference' | 'unsupported' | 'tool_name' | 'tool_arguments';

/** What a hallucination check held the answer against. */
export type CheckMethod = 'context' | 'samples' | 'none';

export interface ClaimVerdict {
  text: string;
  /** Offsets into the response text: `text === response.slice(start, end)`. */
  start: number;
  end: number;
  support: Support;
  /** Likelihood that the claim is NOT supported by the context (0 = well supported). */
  score: number;
  /** Linguistic certainty of the claim's wording, 0 (hedged) .. 1 (assertive). */
  certainty?: number;
  /** Token-level uncertainty when the upstream returned logprobs. */
  logprob?: { mean: number; min: number };
  /** The judge model's reading of this claim, when the optional judge ran. */
  judge?: Support;
  /** Best-matching context excerpt, for explanation. */
  evidence?: string;
  /** Set on every `unsupported` or `contradicted` claim. */
  failure_mode?: FailureMode;
  /** Checked against resampled or shadow answers: how many of them support the claim. */
  agreement?: { supporting: number; samples: number };
  /** Remote scoring (detect.remote): the model's likelihood that the claim is not supported. */
  remote?: number;
}

export type RefusalKind = 'none' | 'partial' | 'full';

export interface Verdict {
  id: string;
  provider: 'openai' | 'anthropic';
  model: string;
  grounded: boolean;
  hallucination: {
    flagged: boolean;
    score: number;
    method?: CheckMethod;
    claims: ClaimVerdict[];
    /** Checked against samples: how many meaning clusters the original and sampled answers fall into. */
    disagreement?: { answers: number; clusters: number; entropy: number };
  };
  confidence_mismatch: { flagged: boolean; score: number };
  refusal: { flagged: boolean; kind: RefusalKind; score: number };
  /** Extensions beyond the contract. */
  app?: string;
  route?: string;
  analysed_at?: string;
  detection_lag_ms?: number;
  aborted?: boolean;
  status?: number;
  /** The optional judge's part: its own score and how many claims it read. */
  judge?: {
    model: string;
    score: number;
    claims: number;
    /** What the judge held the claims against: the request's context, or (no context) its own knowledge. */
    basis?: 'context' | 'knowledge';
  };
  /** Detectors that contributed (e.g. `heuristic`, `judge:<model>`). */
  provenance?: string[];
  /** A shadow model's verdict: the id of the original exchange whose request it answered. */
  shadow_of?: string;
  /** Set when the worker handled the exchange but deliberately did not analyse it: why. */
  skipped?: string;
  /**
   * With `skipped: "upstream_error"`, when the upstream never answered and the proxy answered the
   * client itself (`status` 502 or 504): `refused`, `reset`, `timeout`, `dns` or `upstream_error`.
   */
  error?: string;
  /** Which inputs were cut at `detect.maxResponseChars` / `detect.maxContextChars` before analysis. */
  truncated?: { response?: boolean; context?: boolean };
  /** Remote scoring's part (detect.remote): its exchange score and how many claims it scored. */
  remote?: { name: string; score: number; claims: number };
  /**
   * Fingerprint of what the model was asked (context parts and question, normalised; not the
   * model or sampling parameters): verdicts with equal hashes answered the same prompt.
   */
  prompt_hash?: string;
  /** The answer's tool calls held to the tools the request declared; absent when it made none. */
  tool_calls?: ToolCallsVerdict;
  /** Judged by the proxy before the client had the answer (inline mode): what it told the client. */
  inline?: InlineDecision;
}

/**
 * What inline mode did with one exchange (one attempt). `hallucination` and `flagged` are the
 * values the response carried (`x-veracity-hallucination`, `x-veracity-flagged` or the SSE
 * comment): sampling, the judge or remote scoring may refine the verdict's own scores later,
 * never these.
 */
export interface InlineDecision {
  mode: 'annotate' | 'block';
  /**
   * `delivered`: the client got this answer, with the verdict; `blocked`: a 422 instead of it;
   * `retried`: withheld, and the upstream asked again (`retried_as` is that attempt).
   */
  decision: 'delivered' | 'blocked' | 'retried';
  hallucination: number;
  /** Flagged conditions, as `x-veracity-flagged` lists them (empty: `none`). */
  flagged: string[];
  /** 1 for the client's own request, 2.. for retries. */
  attempt: number;
  /** The attempt this one retried. */
  retry_of?: string;
  /** The attempt that retried this one. */
  retried_as?: string;
  /** An event stream: annotated with a comment after its last event (a stream is never withheld). */
  stream?: boolean;
}

export type ToolFailureMode = Extract<FailureMode, 'tool_name' | 'tool_arguments'>;

/** Why a tool call fails: the claim-like finding of a tool call. */
export interface ToolFinding {
  /** What is wrong, for people: the tool, the place in its arguments and the rule. */
  text: string;
  failure_mode: ToolFailureMode;
  /** JSON Pointer into the arguments (`/unit`, `/items/0/id`); `''` is the arguments as a whole, or the name. */
  path: string;
  /** The rule broken: `declared` (the name), `json` (syntax), or the JSON Schema keyword (`required`, `type`, `enum`, `additionalProperties`, …). */
  rule: string;
  /** Where the rule sits in the declared schema (`#/properties/unit/enum`). */
  schema_path?: string;
}

export interface ToolCallVerdict {
  /** Position among the answer's tool calls. */
  index: number;
  /** The provider's call id, when it gave one. */
  id?: string;
  name: string;
  /**
   * How far the call was checked: `schema` (arguments validated against the declared schema),
   * `json` (parsed only: no schema declared, or it could not be used), `name` (free-text custom
   * tool), `none` (an incomplete call).
   */
  checked: 'schema' | 'json' | 'name' | 'none';
  /** False exactly when `findings` is not empty. */
  valid: boolean;
  /** Set when the call fails: `tool_name` when the name is not declared, else `tool_arguments`. */
  failure_mode?: ToolFailureMode;
  findings: ToolFinding[];
  /** The answer ended inside this call (a cut stream, a token limit): not checked, not counted. */
  incomplete?: boolean;
  /** Why the declared schema could not be used (does not compile, too large). */
  schema_error?: string;
  /** Rules of the schema not enforced, and why. */
  unchecked?: string[];
}

export interface ToolCallsVerdict {
  /** Complete calls checked. */
  checked: number;
  /** Calls with at least one finding. */
  failed: number;
  calls: ToolCallVerdict[];
}
