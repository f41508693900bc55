// Type declarations for tinylm.js — TinyLM in the browser: language models running in a Web Worker
// on WebAssembly, with an offline model cache. Nothing leaves the device.

/**
 * Where a model comes from: a URL (same origin or CORS-enabled; relative URLs resolve against the page),
 * a File/Blob, or bytes. Only http(s) URLs are cached, keyed by the absolute URL without its fragment;
 * Files, Blobs and bytes are already in memory and are never cached.
 */
export type ModelSource = string | URL | Blob | ArrayBuffer | ArrayBufferView;

/**
 * Which browser storage keeps downloaded models: 'indexeddb' (default), 'cache' (Cache API), 'opfs'
 * (origin private file system); 'none' disables caching. Each entry keeps its size and SHA-256, checked
 * on every read: a corrupted or truncated entry is deleted and the model downloaded again.
 */
export type CacheKind = 'indexeddb' | 'cache' | 'opfs' | 'none';

/** A loading step: 'download' (or reading a file/the cache), 'verify' (checksums), 'parse' (engine), 'ready'. */
export type LoadStage = 'download' | 'verify' | 'parse' | 'ready';

export interface LoadProgress {
  stage: LoadStage;
  /** Bytes loaded so far. */
  loaded: number;
  /** Total bytes, or 0 when the server did not say. */
  total: number;
  /** Human-readable note (e.g. "from cache", a storage warning). */
  message?: string;
}

/** Implementation of the engine's hot operations. */
export type KernelKind = 'wasm' | 'managed';

export interface LoadOptions {
  onProgress?: (progress: LoadProgress) => void;
  /** Model storage for URL sources; default 'indexeddb'. A full quota never fails a load (see ModelInfo.cacheStatus). */
  cache?: CacheKind;
  /** Hex SHA-256 the model must have; a mismatch is an 'integrity' error and nothing is cached. */
  expectedSha256?: string;
  /**
   * Largest model accepted, in bytes; default 33554432 (32 MiB). Larger models are refused ('budget') before
   * download when the size is known (Content-Length, Blob size, cached entry), else as soon as the
   * streamed bytes pass it.
   */
  budgetBytes?: number;
  /**
   * Threads for the matrix products, 1 to 64; default: the cores (navigator.hardwareConcurrency), at most 4.
   * More than 1 needs the 'wasm' kernels and a cross-origin-isolated page (COOP: same-origin, COEP:
   * require-corp; `tinylm serve` sends both): the worker then starts threads − 1 helper workers sharing a
   * copy of the weights (so the page holds the weights twice). Otherwise the model runs on one thread and
   * `load` logs a warning saying why; `info.threads` tells what runs. Tokens are identical for any count.
   */
  threads?: number;
  /**
   * Let the 'wasm' kernels use WebAssembly relaxed SIMD's integer dot product in the matrix products of the quantized
   * types (all but TQ1_0; Q3_K and Q6_K in row panels only; only with operands for which it is exact, so tokens are identical); default true
   * when the browser supports it (Chromium 114+; checked at startup). With rowPanels, the Q3_K, Q4_K, Q5_K and Q6_K
   * blocks are then also rearranged at load into the order those kernels read (in place). false runs the
   * SIMD128 kernels.
   */
  relaxedSimd?: boolean;
  /**
   * Let the 'wasm' kernels interleave the quantized matrices of the matrix products into panels of the rows
   * a kernel walks together (eight for the 32-element types, four for the K-quant and ternary types) at load (in place: no extra memory;
   * one forward memory stream per panel, which the CPU prefetches far better); default true. Tokens are
   * identical either way.
   */
  rowPanels?: boolean;
  /**
   * Let the 'wasm' kernels replay decode steps as a kernel graph: after three one-token steps recorded
   * in C#, each following step runs its kernel calls from JavaScript in one go, without the interpreted C#
   * between them (like llama.cpp's CUDA-graph reuse); default true. Tokens are identical either way;
   * `GenerationResult.graphSteps` counts the replayed steps. A model whose steps run C# work (an operation
   * without an emitted kernel) is never replayed, and the worker's console says why.
   */
  decodeGraph?: boolean;
  /**
   * Let the 'wasm' kernels re-encode the model's Q5_0 product matrices as Q8_0 at load: the same numbers
   * (weight q − 16 as an int8, the same scale), so tokens are identical, but the Q8_0 products run about
   * 1.8 times as fast in the page as the Q5_0 ones (whose fifth bits cost most of their instructions),
   * for 34/22 of those matrices' bytes in memory (the file's Q5_0 bytes stay loaded as well). Q4_K_M
   * files of models whose rows are not a multiple of 256 wide (SmolLM-135M, stories15M) are mostly
   * Q5_0. Default true; `ModelInfo.widenedMatrices` counts them.
   */
  widenQ5_0?: boolean;
  /**
   * Let the 'wasm' kernels (with relaxed SIMD and row panels) keep a wide copy of the model's Q6_K product matrices, every
   * 6-bit quant in its own byte: the same numbers, so tokens are identical, but a decode step's Q6_K products load their
   * quants instead of assembling each from a nibble and a bit pair (1.3 to 1.4 times as fast), for 274/210 of those
   * matrices' bytes in memory (the file's Q6_K bytes stay loaded as well). Q4_K_M files hold their output matrix and half
   * their FFN down projections as Q6_K. Default true; `ModelInfo.wideQ6_KMatrices` counts them.
   */
  widenQ6_K?: boolean;
  /**
   * Let the 'wasm' kernels re-encode the model's TQ1_0 product matrices as TQ2_0 at load: the same numbers (each trit as
   * a two-bit field, the same scale), so tokens are identical, but the TQ2_0 products run about twice as fast in the page
   * (TQ1_0's base-3 packing takes 16-bit multiplies to unpack), for 66/54 of those matrices' bytes in memory (the file's
   * TQ1_0 bytes stay loaded as well). Default true; `ModelInfo.widenedMatrices` counts them with the Q5_0 ones.
   */
  widenTQ1_0?: boolean;
  /**
   * With threads: the query-key multiply-adds (context rows × heads × head size × query rows) from which an
   * attention call splits its heads across the threads, reading mirrors of the KV caches in the threads'
   * shared memory; default 32768 (a 12-head, 64-channel layer from a 43-token context). 0 splits every call
   * (tests). Tokens are identical either way; `GenerationResult.kernelThreads.attentionJobs` counts the splits.
   */
  splitAttentionMacs?: number;
  /** KV cache length in tokens; 0 or absent: the model's, at most 4096. */
  contextLength?: number;
  /**
   * Implementation of the hot operations: 'wasm' runs WebAssembly SIMD kernels that the engine emits for the
   * model's tensor types; 'managed' the C# reference. Both give identical tokens. Default 'wasm' when the
   * browser supports WebAssembly SIMD, else 'managed'; 'wasm' without SIMD is an 'argument' error.
   */
  kernels?: KernelKind;
  /** Aborts the download and load. */
  signal?: AbortSignal;
}

export interface ModelInfo {
  /** general.architecture, e.g. "llama". */
  architecture: string;
  /** general.name or the file name. */
  name: string;
  /** Number of weights. */
  parameters: number;
  /** Tensor type holding most weight bytes, e.g. "F32", "Q8_0", "Q4_0". */
  quantization: string;
  /** Size of the model file in bytes. */
  bytes: number;
  /** Bytes of tensor data. */
  weightBytes: number;
  /** Hex SHA-256 of the model file. */
  sha256: string;
  /** Context the model was trained with, in tokens. */
  trainedContextLength: number;
  /** This session's KV cache length, in tokens. */
  contextLength: number;
  /** Bytes held by the KV cache. */
  kvCacheBytes: number;
  vocabularySize: number;
  /** The model's chat template (tokenizer.chat_template), if any. */
  chatTemplate: string | null;
  /** The kernels this model runs on ('wasm' or 'managed', see LoadOptions.kernels). */
  kernels: KernelKind;
  /** Threads the matrix products run on (see LoadOptions.threads). */
  threads: number;
  /** True when the emitted products use relaxed SIMD (see LoadOptions.relaxedSimd). */
  relaxedSimd: boolean;
  /** Q5_0 and TQ1_0 product matrices that the 'wasm' kernels run as Q8_0 and TQ2_0 (see LoadOptions.widenQ5_0, widenTQ1_0). */
  widenedMatrices: number;
  /** Q6_K product matrices that the 'wasm' kernels run from a wide copy (see LoadOptions.widenQ6_K). */
  wideQ6_KMatrices: number;
  /** File name or URL the model came from. */
  source: string;
  /** True when the bytes came from the model cache. */
  fromCache: boolean;
  /**
   * 'stored' (downloaded and cached), 'hit' (read from the cache, size and SHA-256 checked), 'refetched'
   * (a corrupted cached copy, or one with another SHA-256 than expectedSha256, was replaced), 'disabled'
   * (cache: 'none'), or 'not-stored: <reason>', e.g. 'not-stored: quota exceeded (model … bytes; this site
   * uses … of its quota of …)' or 'not-stored: only URL sources are cached': the model runs from memory.
   */
  cacheStatus: string;
}

export interface GenerateOptions {
  /** Tokens to generate; -1: until end of text or full context. Default 256. */
  maxTokens?: number;
  /** Softmax temperature; 0 is greedy. Default 0.8. */
  temperature?: number;
  /** Default 40; 0 disables. */
  topK?: number;
  /** Default 0.95; 1 disables. */
  topP?: number;
  /** Default 0.05; 0 disables. */
  minP?: number;
  /** Default 1 (off). */
  repeatPenalty?: number;
  /** Tokens the penalties look back over; default 64. */
  repeatLastN?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Sampler seed; the same seed gives the same text, in the browser and natively. Default 42. */
  seed?: number;
  /** Generation stops when the text contains one of these (not included in the output). */
  stop?: string[];
  /** Keep going past the end-of-text token. */
  ignoreEos?: boolean;
  /** Aborting stops generation within one token; the iterator then throws a TinyLMError with code 'aborted'. */
  signal?: AbortSignal;
}

export interface GenerationResult {
  /** All generated text. */
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** 'EndOfSequence' | 'MaxTokens' | 'StopString' | 'ContextFull' | 'Cancelled'. */
  stopReason: string;
  promptMs: number;
  generationMs: number;
  timeToFirstTokenMs: number;
  promptTokensPerSecond: number;
  tokensPerSecond: number;
  /**
   * Diagnostics of the kernel threads during this generation: chunks run (of matrix products' rows and of
   * attention calls' heads), how many of them the helper workers ran (0 with one thread), and the
   * attention calls whose heads were split across the threads (LoadOptions.splitAttentionMacs), and the jobs that
   * ran several matrix products with the same activations at once (a layer's query, key and value; its FFN gate and up).
   */
  kernelThreads: { threads: number; chunks: number; helperChunks: number; attentionJobs: number; groupJobs: number };
  /** Decode steps of this generation replayed from the kernel graph (LoadOptions.decodeGraph); 0 with the 'managed' kernels. */
  graphSteps: number;
}

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string; }

export interface ChatCompletionRequest {
  messages: ChatMessage[];
  stream?: boolean;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  stop?: string | string[];
  signal?: AbortSignal;
}

export interface ChatCompletionUsage { prompt_tokens: number; completion_tokens: number; total_tokens: number; }

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: ChatMessage; finish_reason: 'stop' | 'length' }[];
  usage: ChatCompletionUsage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: Partial<ChatMessage>; finish_reason: 'stop' | 'length' | null }[];
  usage?: ChatCompletionUsage;
}

/** A cached model. */
export interface CacheEntry {
  /** The absolute URL the model was downloaded from (without fragment). */
  key: string;
  url: string;
  name: string;
  size: number;
  /** Hex SHA-256 of the stored bytes, checked on every read. */
  sha256: string;
  /** ISO 8601 time of storing. */
  storedAt: string;
  kind: CacheKind;
}

/** The model cache; `kind` defaults to 'indexeddb'. A storage the browser lacks holds no entries. */
export interface ModelCache {
  /** Entries of one storage, oldest first. */
  list(kind?: CacheKind): Promise<CacheEntry[]>;
  /** Deletes the entry of a URL (absolute, or relative to the page); true when there was one. */
  delete(key: string, kind?: CacheKind): Promise<boolean>;
  /** Deletes every entry of one storage. */
  clear(kind?: CacheKind): Promise<void>;
}

/** Errors carry a code: 'budget', 'network', 'http', 'integrity', 'quota', 'format', 'admission', 'aborted', 'argument', 'state', 'worker', 'engine'. */
export declare class TinyLMError extends Error {
  readonly name: 'TinyLMError';
  readonly code: string;
  readonly details?: unknown;
}

export declare class TinyLM {
  /** Loads a model into a new Web Worker. */
  static load(source: ModelSource, options?: LoadOptions): Promise<TinyLM>;
  /** The model cache of this origin. */
  static readonly cache: ModelCache;
  readonly info: ModelInfo;
  /** Streams text; the iterator's return value is the GenerationResult. */
  generate(prompt: string, options?: GenerateOptions): AsyncGenerator<string, GenerationResult, undefined>;
  /** OpenAI-style chat, using the model's chat template (a plain prompt when it has none). */
  readonly chat: {
    completions: {
      create(request: ChatCompletionRequest & { stream: true }): Promise<AsyncIterable<ChatCompletionChunk>>;
      create(request: ChatCompletionRequest & { stream?: false }): Promise<ChatCompletion>;
    };
  };
  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): Promise<number[]>;
  detokenize(ids: ArrayLike<number>): Promise<string>;
  /** Frees the model and stops its worker. */
  unload(): Promise<void>;
}

export default TinyLM;
