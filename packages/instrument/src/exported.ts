// Which functions of a module are its exports, for the load hook's `functions: 'exported'` mode:
// the functions an ES module exports (declarations, `export const f = () => ...`, `export { f }`,
// `export default`), or a CommonJS module assigns to `module.exports` / `exports.x` (directly or
// by the name of a top-level function), and the methods of an exported class or object literal.
// Callbacks and helpers inside them are not exports and are left alone.

import type { Node } from 'acorn'

type AnyNode = Node & Record<string, unknown>

const isFn = (n: AnyNode | null | undefined): boolean => n != null && (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression')

/** The function nodes (and the methods of exported classes and object literals) a module exports. */
export function exportedFunctions(program: AnyNode, format: 'module' | 'commonjs'): Set<AnyNode> {
  const out = new Set<AnyNode>()
  // Top-level bindings by name: a function declaration, a class, or a variable initialised with a function, class or object.
  const top = new Map<string, AnyNode>()
  const body = program.body as AnyNode[]
  const declare = (d: AnyNode | null | undefined): void => {
    if (!d) return
    if ((d.type === 'FunctionDeclaration' || d.type === 'ClassDeclaration') && d.id) top.set((d.id as AnyNode).name as string, d)
    if (d.type === 'VariableDeclaration') {
      for (const v of d.declarations as AnyNode[]) if ((v.id as AnyNode).type === 'Identifier' && v.init) top.set((v.id as AnyNode).name as string, v.init as AnyNode)
    }
  }
  for (const st of body) declare(st.type === 'ExportNamedDeclaration' || st.type === 'ExportDefaultDeclaration' ? (st.declaration as AnyNode) : st)

  /** Marks a value that is exported: a function, a class's methods, an object literal's function members, or a name bound to one of those. */
  const mark = (v: AnyNode | null | undefined, depth = 0): void => {
    if (!v || depth > 3) return
    if (isFn(v)) out.add(v)
    else if (v.type === 'ClassDeclaration' || v.type === 'ClassExpression') {
      for (const m of (v.body as AnyNode).body as AnyNode[]) if ((m.type === 'MethodDefinition' || m.type === 'PropertyDefinition') && isFn(m.value as AnyNode)) out.add(m.value as AnyNode)
    } else if (v.type === 'ObjectExpression') {
      for (const p of v.properties as AnyNode[]) if (p.type === 'Property') mark(p.value as AnyNode, depth + 1)
    } else if (v.type === 'Identifier') mark(top.get(v.name as string), depth + 1)
    else if (v.type === 'VariableDeclaration') for (const d of v.declarations as AnyNode[]) mark(d.init as AnyNode, depth + 1)
  }

  if (format === 'module') {
    for (const st of body) {
      if (st.type === 'ExportDefaultDeclaration') mark(st.declaration as AnyNode)
      else if (st.type === 'ExportNamedDeclaration') {
        if (st.declaration) mark(st.declaration as AnyNode)
        else if (!st.source) for (const s of st.specifiers as AnyNode[]) mark(s.local as AnyNode)
      }
    }
    return out
  }
  // CommonJS: assignments to module.exports, module.exports.x or exports.x at the module's top level.
  for (const st of body) {
    if (st.type !== 'ExpressionStatement') continue
    for (let e = st.expression as AnyNode; e.type === 'AssignmentExpression'; e = e.right as AnyNode) {
      if (isExportsTarget(e.left as AnyNode)) mark(rightmost(e))
    }
  }
  return out
}

/** The value of a chain `a = b = value`. */
function rightmost(e: AnyNode): AnyNode {
  let r = e.right as AnyNode
  while (r.type === 'AssignmentExpression') r = r.right as AnyNode
  return r
}

const named = (n: AnyNode, name: string) => n.type === 'Identifier' && n.name === name
const prop = (n: AnyNode, name: string) => !n.computed && named(n.property as AnyNode, name)

/** `module.exports`, `module.exports.x`, `exports.x`. */
function isExportsTarget(n: AnyNode): boolean {
  if (n.type !== 'MemberExpression') return false
  const obj = n.object as AnyNode
  if (named(obj, 'module') && prop(n, 'exports')) return true
  if (named(obj, 'exports')) return true
  return obj.type === 'MemberExpression' && named(obj.object as AnyNode, 'module') && prop(obj, 'exports')
}
