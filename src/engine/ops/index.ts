export * from "./attention.ts";
export * from "./conv.ts";
export * from "./elementwise.ts";
export * from "./matmul.ts";
export * from "./norm.ts";
export * from "./reduce.ts";
export * from "./shape.ts";
