import ts from 'typescript';
import { SDK_MODULE } from '../sdk.js';
import { FORBIDDEN_IDENTIFIERS, FORBIDDEN_MEMBERS, GATE_RULES } from './rules.js';

/** One refusal of the gate: the rule broken and where (1-based line and column). */
export interface GateFinding {
  readonly rule: string;
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

/** The gate's verdict on one source text. */
export interface GateResult {
  readonly ok: boolean;
  readonly findings: readonly GateFinding[];
}

// Positions where an identifier is a declared or accessed *name*, not a reference to a global.
function isNamePosition(node: ts.Identifier): boolean {
  const p = node.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === node) return true;
  if (
    (ts.isPropertyAssignment(p) ||
      ts.isMethodDeclaration(p) ||
      ts.isPropertyDeclaration(p) ||
      ts.isPropertySignature(p) ||
      ts.isMethodSignature(p) ||
      ts.isGetAccessorDeclaration(p) ||
      ts.isSetAccessorDeclaration(p) ||
      ts.isEnumMember(p)) &&
    p.name === node
  ) {
    return true;
  }
  if (ts.isQualifiedName(p) && p.right === node) return true;
  if (ts.isPropertyAccessExpression(p) || ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) return false;
  return false;
}

function memberName(node: ts.Node): string | undefined {
  if (ts.isPropertyAccessExpression(node)) return node.name.text;
  if (ts.isElementAccessExpression(node)) {
    const a = node.argumentExpression;
    if (ts.isStringLiteralLike(a) || ts.isNumericLiteral(a)) return a.text;
  }
  return undefined;
}

// A key expression that can only be a number or a plain variable is allowed; anything that builds a string is not.
function buildsString(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return buildsString(e.expression);
  if (ts.isStringLiteralLike(e) || ts.isTemplateExpression(e)) return true;
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    return buildsString(e.left) || buildsString(e.right) || !isNumeric(e.left) || !isNumeric(e.right);
  }
  if (ts.isCallExpression(e) || ts.isTaggedTemplateExpression(e)) return true;
  if (ts.isConditionalExpression(e)) return buildsString(e.whenTrue) || buildsString(e.whenFalse);
  return false;
}

function isNumeric(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return isNumeric(e.expression);
  if (ts.isNumericLiteral(e)) return true;
  if (ts.isPrefixUnaryExpression(e)) return true;
  if (ts.isBinaryExpression(e) && e.operatorToken.kind !== ts.SyntaxKind.PlusToken) return true;
  return ts.isIdentifier(e) || ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e);
}

function rootIdentifier(e: ts.Expression): ts.Identifier | undefined {
  let cur: ts.Expression = e;
  while (
    ts.isPropertyAccessExpression(cur) ||
    ts.isElementAccessExpression(cur) ||
    ts.isParenthesizedExpression(cur) ||
    ts.isAsExpression(cur) ||
    ts.isSatisfiesExpression(cur) ||
    ts.isNonNullExpression(cur) ||
    ts.isTypeAssertionExpression(cur)
  ) {
    cur = cur.expression;
  }
  return ts.isIdentifier(cur) ? cur : undefined;
}

// True when `e` is more than the bare identifier (a member of it is being written).
function isMemberOf(e: ts.Expression, root: ts.Identifier): boolean {
  let cur: ts.Expression = e;
  while (ts.isParenthesizedExpression(cur) || ts.isAsExpression(cur) || ts.isNonNullExpression(cur))
    cur = cur.expression;
  return cur !== root;
}

// Strings that spell a way out of the sandbox when used as a key later (`o[k]` with `k` holding one).
const FORBIDDEN_STRINGS = ['constructor', '__proto__', 'prototype'];

const ASSIGNMENT_OPERATORS = new Set([
  ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.PlusEqualsToken,
  ts.SyntaxKind.MinusEqualsToken,
  ts.SyntaxKind.AsteriskEqualsToken,
  ts.SyntaxKind.SlashEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
]);

/**
 * The static safety gate (AUTH-7): parses TypeScript or JavaScript with the TypeScript compiler and refuses,
 * with rule id, line and column, every construct that reaches outside the Strategy SDK (see `GATE_RULES`).
 * `requireStrategy` also checks that the file default-exports a strategy definition.
 */
export function checkSource(source: string, fileName = 'strategy.ts', requireStrategy = true): GateResult {
  const kind = fileName.endsWith('.js') || fileName.endsWith('.mjs') ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, kind);
  const findings: GateFinding[] = [];
  const add = (rule: string, node: ts.Node, detail: string) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    findings.push({
      rule,
      message: `${detail} (${GATE_RULES[rule].description})`,
      line: line + 1,
      column: character + 1,
    });
  };
  // parseDiagnostics is internal but stable; a file that does not parse is refused before anything else.
  const diags = (sf as unknown as { parseDiagnostics?: ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  for (const d of diags) {
    const { line, character } = sf.getLineAndCharacterOfPosition(d.start);
    findings.push({
      rule: 'syntax',
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      line: line + 1,
      column: character + 1,
    });
  }
  const sdkBindings = new Set<string>();
  let exportsStrategy = false;

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || (ts.isExportDeclaration(node) && node.moduleSpecifier)) {
      const spec = node.moduleSpecifier as ts.Expression;
      const name = ts.isStringLiteral(spec) ? spec.text : spec.getText(sf);
      if (name !== SDK_MODULE) add('import-not-sdk', node, `import of "${name}"`);
      else if (ts.isImportDeclaration(node) && node.importClause) {
        const c = node.importClause;
        if (c.name) sdkBindings.add(c.name.text);
        const nb = c.namedBindings;
        if (nb && ts.isNamespaceImport(nb)) sdkBindings.add(nb.name.text);
        if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) sdkBindings.add(el.name.text);
      }
      return;
    }
    if (ts.isImportEqualsDeclaration(node)) {
      add('require', node, 'import = require(...)');
      return;
    }
    if (ts.isExportAssignment(node)) exportsStrategy = true;
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add('dynamic-import', node, 'import(...)');
    }
    if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      add('import-meta', node, 'import.meta');
    }
    if (ts.isWithStatement(node)) add('with', node, 'with (...)');
    if (ts.isIdentifier(node) && !isNamePosition(node)) {
      const rule = FORBIDDEN_IDENTIFIERS.get(node.text);
      if (rule !== undefined) add(rule, node, `"${node.text}"`);
    }
    if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      const name = memberName(node);
      const rule = name === undefined ? undefined : FORBIDDEN_MEMBERS.get(name);
      if (name !== undefined && rule !== undefined) add(rule, node, `member "${name}"`);
      else if (
        ts.isElementAccessExpression(node) &&
        !ts.isStringLiteralLike(node.argumentExpression) &&
        buildsString(node.argumentExpression)
      ) {
        add('string-key', node, `computed key ${node.argumentExpression.getText(sf)}`);
      }
    }
    if (
      ts.isStringLiteralLike(node) &&
      !ts.isImportDeclaration(node.parent) &&
      !ts.isExportDeclaration(node.parent) &&
      !ts.isElementAccessExpression(node.parent)
    ) {
      const hit = FORBIDDEN_STRINGS.find((m) => node.text.includes(m));
      if (hit !== undefined) add('string-key', node, `string "${node.text}" names the forbidden member ${hit}`);
    }
    if (ts.isBinaryExpression(node) && ASSIGNMENT_OPERATORS.has(node.operatorToken.kind)) {
      const root = rootIdentifier(node.left);
      if (root && sdkBindings.has(root.text) && isMemberOf(node.left, root)) {
        add('sdk-mutation', node, `assignment to ${node.left.getText(sf)}`);
      }
    }
    if (
      (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
      (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)
    ) {
      const root = rootIdentifier(node.operand);
      if (root && sdkBindings.has(root.text) && isMemberOf(node.operand, root))
        add('sdk-mutation', node, node.getText(sf));
    }
    if (ts.isDeleteExpression(node)) {
      const root = rootIdentifier(node.expression);
      if (root && sdkBindings.has(root.text)) add('sdk-mutation', node, node.getText(sf));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (requireStrategy && !exportsStrategy && !findings.some((f) => f.rule === 'syntax')) {
    findings.push({
      rule: 'no-strategy',
      message: GATE_RULES['no-strategy'].description,
      line: 1,
      column: 1,
    });
  }
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: findings.length === 0, findings };
}

/** Findings as `file:line:col rule: message` lines, the format `tradeforge strategy check` prints. */
export function formatFindings(file: string, findings: readonly GateFinding[]): string {
  return findings.map((f) => `${file}:${f.line}:${f.column} ${f.rule}: ${f.message}`).join('\n');
}
