// The load hook's rewrite: every function of a module (declarations, expressions, arrows, methods,
// constructors; not getters or setters) gets its body wrapped so that it records call, return and
// exception through the runtime, with a stable `astNodeId` (file:line:column of the function).
// Parsing is acorn's, editing magic-string's: every insertion stays on the line where it is made,
// so line numbers never move, and an inline source map restores the columns.

import { parse, type Node } from 'acorn'
import MagicString from 'magic-string'
import { basename } from 'node:path'
import { exportedFunctions } from './exported.js'

/** What to rewrite. */
export interface TransformInput {
  /** The module's source text. */
  readonly source: string
  /** Its name in events (`module`) and in `astNodeId`s, e.g. `src/cart.mjs`. */
  readonly module: string
  /** Its path or URL, for the source map. */
  readonly file: string
  /** ESM or CommonJS (a CommonJS body may `return` at top level). */
  readonly format: 'module' | 'commonjs'
  /** Which functions record their calls: `all`, or only those the module `exported` (see exported.ts). Defaults to `all`. */
  readonly functions?: FunctionSelection
}

/** Which functions of a module the load hook rewrites. */
export type FunctionSelection = 'all' | 'exported'

/** The rewritten module, or why it was left alone. */
export type TransformResult =
  | { readonly ok: true; readonly code: string; readonly functions: number }
  | { readonly ok: false; readonly reason: 'parse_error' | 'already_instrumented' | 'no_functions'; readonly detail?: string }

type AnyNode = Node & Record<string, unknown>
type FnNode = AnyNode & { params: AnyNode[]; body: AnyNode; async: boolean; generator: boolean; expression?: boolean; id?: AnyNode | null }

interface FnInfo {
  readonly node: FnNode
  /** How its outcome is recorded: `r` sync, `ra` async body (records on settle); undefined when returns are left alone. */
  readonly ret: 'r' | 'ra' | undefined
}

const HELPER = '__rsG'
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'])
const SKIP_KEYS = new Set(['type', 'start', 'end', 'loc', 'range'])

/** Rewrites a module so its functions record their calls; returns the code with an inline source map. */
export function instrumentSource(input: TransformInput): TransformResult {
  const { source } = input
  if (source.includes(`${HELPER}(`)) return { ok: false, reason: 'already_instrumented' }
  let ast: AnyNode
  try {
    ast = parse(source, {
      ecmaVersion: 'latest',
      sourceType: input.format === 'module' ? 'module' : 'script',
      locations: true,
      allowHashBang: true,
      allowReturnOutsideFunction: input.format === 'commonjs',
      allowAwaitOutsideFunction: input.format === 'module',
    }) as unknown as AnyNode
  } catch (e) {
    return { ok: false, reason: 'parse_error', detail: (e as Error).message }
  }
  const ms = new MagicString(source)
  const table: [string, number, string][] = []
  const ancestors: AnyNode[] = []
  const fns: FnInfo[] = []
  const only = input.functions === 'exported' ? exportedFunctions(ast, input.format) : undefined

  const visit = (node: AnyNode): void => {
    const isFn = FUNCTIONS.has(node.type)
    let info: FnInfo | undefined
    if (isFn) {
      info = plan(node as FnNode, ancestors[ancestors.length - 1])
      fns.push(info)
    }
    ancestors.push(node)
    for (const key in node) {
      if (SKIP_KEYS.has(key)) continue
      const v = node[key]
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof (c as AnyNode).type === 'string') visit(c as AnyNode)
      } else if (v && typeof (v as AnyNode).type === 'string') visit(v as AnyNode)
    }
    ancestors.pop()
    if (node.type === 'ReturnStatement' && node.argument) {
      const fn = fns[fns.length - 1]
      if (fn?.ret) {
        const arg = node.argument as AnyNode
        ms.prependRight(arg.start, `__rc.${fn.ret}(`)
        ms.appendLeft(arg.end, ')')
      }
    }
    if (info) {
      fns.pop()
      if (info.ret !== undefined || isClosure(info.node)) wrap(info)
    }
  }

  /** Decides how a function is recorded; getters and setters are not. */
  const plan = (node: FnNode, parent: AnyNode | undefined): FnInfo => {
    const accessor = parent && (parent.type === 'MethodDefinition' || parent.type === 'Property') && (parent.kind === 'get' || parent.kind === 'set')
    // Getters and setters, and in `exported` mode every function the module does not export, are left as they are.
    if (accessor || (only !== undefined && !only.has(node))) return { node: Object.assign(node, { __skip: true }), ret: undefined }
    if (isClosure(node)) return { node, ret: undefined }
    return { node, ret: node.async ? 'ra' : 'r' }
  }

  /** Async non-generator functions run their body as an async arrow inside their own async context. */
  const isClosure = (node: FnNode): boolean => node.async && !node.generator && !(node as { __skip?: boolean }).__skip && !redeclaresParams(node)

  const wrap = (info: FnInfo): void => {
    const node = info.node
    if ((node as { __skip?: boolean }).__skip) return
    const parent = ancestors[ancestors.length - 1]
    const i = table.length
    table.push([nameOf(node, parent, ancestors), arityOf(node), `${input.module}:${node.loc!.start.line}:${node.loc!.start.column + 1}`])
    const args = node.type === 'ArrowFunctionExpression' ? `[${node.params.map(paramExpr).join(',')}]` : 'arguments'
    const site = `${HELPER}(${i})`
    const sync = !node.async && !node.generator ? 1 : 0
    const guard = `}catch(__re){__rc.x(__re);throw __re}finally{__rc.f()}`
    const body = node.body
    if (body.type === 'BlockStatement') {
      let at = body.start + 1
      for (const st of body.body as AnyNode[]) {
        if (st.type === 'ExpressionStatement' && typeof st.directive === 'string') at = st.end
        else break
      }
      if (info.ret === undefined) {
        ms.prependRight(at, `return ${site}.a(${args},async()=>{`)
        ms.appendLeft(body.end - 1, '})')
      } else {
        ms.prependRight(at, `const __rc=${site}.c(${args},${sync});try{`)
        ms.appendLeft(body.end - 1, guard)
      }
      return
    }
    // An expression body: insert right after `=>`, so parentheses around the body stay inside.
    const from = node.params.length > 0 ? node.params[node.params.length - 1]!.end : node.start
    const arrow = source.indexOf('=>', from)
    if (arrow < 0 || arrow > body.start) return
    if (info.ret === undefined) {
      ms.prependRight(arrow + 2, `${site}.a(${args},async()=>(`)
      ms.appendLeft(node.end, '))')
    } else {
      ms.prependRight(arrow + 2, `{const __rc=${site}.c(${args},${sync});try{return __rc.${info.ret}(`)
      ms.appendLeft(node.end, `)${guard}}`)
    }
  }

  visit(ast)
  if (table.length === 0) return { ok: false, reason: 'no_functions' }
  const m = JSON.stringify(input.module)
  ms.append(
    `\n;function ${HELPER}(i){var t=${HELPER}.t;if(!t){var r=globalThis[Symbol.for("ringside.instrument")];` +
      `if(r)t=r.sites(${m},${JSON.stringify(table)});else{var n={r:function(v){return v},ra:function(v){return v},x:function(){},f:function(){}};` +
      `var s={c:function(){return n},a:function(_,b){return b()}};t=[];for(var k=0;k<${table.length};k++)t.push(s)}${HELPER}.t=t}return t[i]}`,
  )
  const name = basename(input.file)
  const map = ms.generateMap({ hires: true, source: name, file: name, includeContent: true })
  const code = `${ms.toString()}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(map.toString()).toString('base64')}\n`
  return { ok: true, code, functions: table.length }
}

/** `fn.length`: parameters before the first default or rest. */
function arityOf(node: FnNode): number {
  let n = 0
  for (const p of node.params) {
    if (p.type === 'AssignmentPattern' || p.type === 'RestElement') break
    n++
  }
  return n
}

/** An expression giving an arrow's argument values from its parameters (arrows have no `arguments`). */
function paramExpr(p: AnyNode): string {
  if (p.type === 'Identifier') return p.name as string
  if (p.type === 'AssignmentPattern') return paramExpr(p.left as AnyNode)
  if (p.type === 'RestElement') return (p.argument as AnyNode).type === 'Identifier' ? `...${(p.argument as AnyNode).name as string}` : paramExpr(p.argument as AnyNode)
  const names: string[] = []
  boundNames(p, names)
  return `{${names.join(',')}}`
}

function boundNames(p: AnyNode | null, out: string[]): void {
  if (!p) return
  switch (p.type) {
    case 'Identifier':
      out.push(p.name as string)
      return
    case 'AssignmentPattern':
      return boundNames(p.left as AnyNode, out)
    case 'RestElement':
      return boundNames(p.argument as AnyNode, out)
    case 'ArrayPattern':
      for (const e of p.elements as (AnyNode | null)[]) boundNames(e, out)
      return
    case 'ObjectPattern':
      for (const prop of p.properties as AnyNode[]) boundNames((prop.type === 'RestElement' ? prop : prop.value) as AnyNode, out)
      return
  }
}

/**
 * True when the body declares (`var` or a function declaration at its top level) a name that is
 * also a parameter: moved into an inner arrow, that declaration would shadow the parameter.
 */
function redeclaresParams(node: FnNode): boolean {
  if (node.body.type !== 'BlockStatement') return false
  const params: string[] = []
  for (const p of node.params) boundNames(p, params)
  if (params.length === 0) return false
  const declared: string[] = []
  const scan = (n: AnyNode): void => {
    if (FUNCTIONS.has(n.type)) {
      if (n.type === 'FunctionDeclaration' && n.id) declared.push((n.id as AnyNode).name as string)
      return
    }
    if (n.type === 'VariableDeclaration' && n.kind === 'var') for (const d of n.declarations as AnyNode[]) boundNames(d.id as AnyNode, declared)
    for (const key in n) {
      if (SKIP_KEYS.has(key)) continue
      const v = n[key]
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof (c as AnyNode).type === 'string') scan(c as AnyNode)
      } else if (v && typeof (v as AnyNode).type === 'string' && !(n.type === 'ClassBody')) scan(v as AnyNode)
    }
  }
  for (const st of node.body.body as AnyNode[]) scan(st)
  return declared.some((d) => params.includes(d))
}

function keyName(key: AnyNode, computed: unknown): string {
  if (computed) return '[computed]'
  if (key.type === 'Identifier') return key.name as string
  if (key.type === 'PrivateIdentifier') return `#${key.name as string}`
  if (key.type === 'Literal') return String(key.value)
  return '[computed]'
}

function classNameOf(cls: AnyNode | undefined, outer: AnyNode | undefined): string {
  if (cls?.id) return (cls.id as AnyNode).name as string
  if (outer?.type === 'VariableDeclarator' && (outer.id as AnyNode).type === 'Identifier') return (outer.id as AnyNode).name as string
  return 'anonymous class'
}

/** The function's name in events: its own name, its method's (`Class.method`), or what it is assigned to. */
function nameOf(node: FnNode, parent: AnyNode | undefined, ancestors: AnyNode[]): string {
  const at = (k: number) => ancestors[ancestors.length - k]
  if (parent?.type === 'MethodDefinition' || parent?.type === 'PropertyDefinition') {
    // ancestors: ..., outer, Class, ClassBody, MethodDefinition
    return `${classNameOf(at(3), at(4))}.${keyName(parent.key as AnyNode, parent.computed)}`
  }
  if (node.id) return (node.id as AnyNode).name as string
  if (!parent) return 'anonymous'
  switch (parent.type) {
    case 'VariableDeclarator':
      return (parent.id as AnyNode).type === 'Identifier' ? ((parent.id as AnyNode).name as string) : 'anonymous'
    case 'Property': {
      const key = keyName(parent.key as AnyNode, parent.computed)
      const holder = at(3)
      return holder?.type === 'VariableDeclarator' && (holder.id as AnyNode).type === 'Identifier' ? `${(holder.id as AnyNode).name as string}.${key}` : key
    }
    case 'AssignmentExpression': {
      const left = parent.left as AnyNode
      if (left.type === 'Identifier') return left.name as string
      if (left.type === 'MemberExpression') return keyName(left.property as AnyNode, left.computed)
      return 'anonymous'
    }
    case 'ExportDefaultDeclaration':
      return 'default'
    case 'CallExpression':
    case 'NewExpression': {
      // A callback: named after what it is given to, e.g. `setTimeout callback`, `Promise callback`.
      const callee = parent.callee as AnyNode
      const name = callee.type === 'Identifier' ? (callee.name as string) : callee.type === 'MemberExpression' && !callee.computed ? keyName(callee.property as AnyNode, false) : undefined
      return name ? `${name} callback` : 'anonymous'
    }
    default:
      return 'anonymous'
  }
}
