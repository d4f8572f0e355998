#!/usr/bin/env node
// Renders the Kustomize base and every overlay offline (`kubectl kustomize`, no cluster needed)
// and validates each rendered object:
//   1. against the Kubernetes OpenAPI schema of its apiVersion/kind (kubernetes-models' validate());
//   2. for unknown fields in the parts we write by hand (the schema check allows extra keys, so a
//      typo like `readinesProbe` would otherwise pass silently and the probe would not exist);
//   3. against this repository's rules: probes on /health/ready and /health/live, resources,
//      non-root, graceful termination, every Deployment with its Service, HPA and PDB, and every
//      referenced ConfigMap/Secret/Deployment present (Secrets deleted by an overlay count as
//      provided by the secret manager).
// Usage: node infra/k8s/validate.mjs [dir ...]   (default: base and every overlays/* folder)
// Needs kubectl on PATH and the root devDependencies kubernetes-models and yaml.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const dirs =
  process.argv.length > 2
    ? process.argv.slice(2)
    : [
        join(here, 'base'),
        ...readdirSync(join(here, 'overlays'))
          .sort()
          .map((d) => join(here, 'overlays', d)),
      ];

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
if (kubectl.error || kubectl.status !== 0) {
  console.error('validate: kubectl is not installed (it renders the Kustomize folders offline)');
  process.exit(1);
}

// --- fields we write, per object type (a guard against typos; see 2. above) --------------------
const FIELDS = {
  object: ['apiVersion', 'kind', 'metadata', 'spec', 'data', 'stringData', 'binaryData', 'type', 'immutable'],
  metadata: ['name', 'namespace', 'labels', 'annotations', 'generateName'],
  deploymentSpec: [
    'replicas',
    'revisionHistoryLimit',
    'selector',
    'strategy',
    'template',
    'minReadySeconds',
    'progressDeadlineSeconds',
    'paused',
  ],
  podTemplate: ['metadata', 'spec'],
  podSpec: [
    'automountServiceAccountToken',
    'terminationGracePeriodSeconds',
    'securityContext',
    'topologySpreadConstraints',
    'containers',
    'initContainers',
    'volumes',
    'restartPolicy',
    'serviceAccountName',
    'affinity',
    'tolerations',
    'nodeSelector',
    'priorityClassName',
    'imagePullSecrets',
    'enableServiceLinks',
  ],
  container: [
    'name',
    'image',
    'imagePullPolicy',
    'command',
    'args',
    'ports',
    'env',
    'envFrom',
    'resources',
    'startupProbe',
    'readinessProbe',
    'livenessProbe',
    'lifecycle',
    'securityContext',
    'volumeMounts',
    'workingDir',
  ],
  probe: [
    'httpGet',
    'exec',
    'tcpSocket',
    'grpc',
    'initialDelaySeconds',
    'periodSeconds',
    'timeoutSeconds',
    'failureThreshold',
    'successThreshold',
    'terminationGracePeriodSeconds',
  ],
  serviceSpec: ['type', 'selector', 'ports', 'clusterIP', 'sessionAffinity', 'internalTrafficPolicy'],
  hpaSpec: ['scaleTargetRef', 'minReplicas', 'maxReplicas', 'metrics', 'behavior'],
  pdbSpec: ['minAvailable', 'maxUnavailable', 'selector', 'unhealthyPodEvictionPolicy'],
  jobSpec: [
    'backoffLimit',
    'activeDeadlineSeconds',
    'ttlSecondsAfterFinished',
    'template',
    'completions',
    'parallelism',
  ],
};
function unknownFields(where, obj, kind, out) {
  if (!obj || typeof obj !== 'object') return;
  for (const k of Object.keys(obj)) if (!FIELDS[kind].includes(k)) out.push(`${where}: unknown field "${k}"`);
}

// --- schema models ------------------------------------------------------------------------------
const models = new Map();
async function modelFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!models.has(key)) {
    // Core group "v1" lives at kubernetes-models/v1/<Kind>; others at <group>/<version>/<Kind>.
    try {
      const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
      models.set(key, mod[kind] ?? null);
    } catch {
      models.set(key, null);
    }
  }
  return models.get(key);
}

function externalSecrets(dir) {
  // Secrets an overlay deletes with `$patch: delete` are provided by the secret manager.
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) return new Set();
  const k = parse(readFileSync(file, 'utf8')) ?? {};
  const names = new Set();
  for (const p of k.patches ?? []) {
    if (typeof p.patch !== 'string' || !p.patch.includes('$patch: delete')) continue;
    const doc = parse(p.patch);
    if (doc?.kind === 'Secret' && doc.metadata?.name) names.add(doc.metadata.name);
  }
  return names;
}

const selects = (selector, labels) =>
  !!selector &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

async function validateDir(dir) {
  const name = relative(repo, dir);
  const problems = [];
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    return { name, problems: [`kubectl kustomize failed:\n${r.stderr.trim()}`], objects: [] };

  const objects = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    if (doc.errors.length) problems.push(`YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const o = doc.toJS();
    if (o) objects.push(o);
  }
  const id = (o) => `${o.kind}/${o.metadata?.name}`;

  // 1. + 2. schema and unknown fields
  for (const o of objects) {
    const Model = await modelFor(o.apiVersion, o.kind);
    if (!Model) {
      problems.push(`${id(o)}: no Kubernetes schema for apiVersion ${o.apiVersion} kind ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (e) {
      problems.push(`${id(o)}: schema: ${e.message}`);
    }
    unknownFields(id(o), o, 'object', problems);
    unknownFields(`${id(o)} metadata`, o.metadata, 'metadata', problems);
    const pod = o.kind === 'Deployment' || o.kind === 'Job' ? o.spec?.template : null;
    if (o.kind === 'Deployment') unknownFields(`${id(o)} spec`, o.spec, 'deploymentSpec', problems);
    if (o.kind === 'Job') unknownFields(`${id(o)} spec`, o.spec, 'jobSpec', problems);
    if (o.kind === 'Service') unknownFields(`${id(o)} spec`, o.spec, 'serviceSpec', problems);
    if (o.kind === 'HorizontalPodAutoscaler') unknownFields(`${id(o)} spec`, o.spec, 'hpaSpec', problems);
    if (o.kind === 'PodDisruptionBudget') unknownFields(`${id(o)} spec`, o.spec, 'pdbSpec', problems);
    if (pod) {
      unknownFields(`${id(o)} template`, pod, 'podTemplate', problems);
      unknownFields(`${id(o)} template.metadata`, pod.metadata, 'metadata', problems);
      unknownFields(`${id(o)} pod spec`, pod.spec, 'podSpec', problems);
      for (const c of pod.spec?.containers ?? []) {
        unknownFields(`${id(o)} container ${c.name}`, c, 'container', problems);
        for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe'])
          unknownFields(`${id(o)} container ${c.name} ${p}`, c[p], 'probe', problems);
      }
    }
  }

  // 3. repository rules
  const byKind = (k) => objects.filter((o) => o.kind === k);
  const named = (k, n) => objects.find((o) => o.kind === k && o.metadata?.name === n);
  const external = externalSecrets(dir);
  const nsObjects = objects.filter((o) => o.kind !== 'Namespace');
  const namespaces = new Set(nsObjects.map((o) => o.metadata?.namespace ?? '(none)'));
  if (namespaces.size > 1) problems.push(`objects in several namespaces: ${[...namespaces].join(', ')}`);
  const nsDecl = byKind('Namespace').map((n) => n.metadata.name);
  for (const ns of namespaces)
    if (ns !== '(none)' && !nsDecl.includes(ns)) problems.push(`namespace ${ns} is used but not declared`);

  const checkRefs = (who, podSpec) => {
    for (const c of podSpec?.containers ?? []) {
      for (const ef of c.envFrom ?? []) {
        if (ef.configMapRef && !named('ConfigMap', ef.configMapRef.name))
          problems.push(`${who}: envFrom ConfigMap ${ef.configMapRef.name} is not in the render`);
        if (ef.secretRef && !named('Secret', ef.secretRef.name) && !external.has(ef.secretRef.name))
          problems.push(
            `${who}: envFrom Secret ${ef.secretRef.name} is neither in the render nor deleted as external`,
          );
      }
    }
  };

  for (const d of byKind('Deployment')) {
    const who = `Deployment/${d.metadata.name}`;
    const spec = d.spec ?? {};
    const pod = spec.template?.spec ?? {};
    const podLabels = spec.template?.metadata?.labels ?? {};
    if (!selects(spec.selector?.matchLabels, podLabels))
      problems.push(`${who}: selector does not match the pod labels`);
    if (!(pod.terminationGracePeriodSeconds >= 30))
      problems.push(`${who}: terminationGracePeriodSeconds must be >= 30`);
    if (pod.securityContext?.runAsNonRoot !== true)
      problems.push(`${who}: pod securityContext.runAsNonRoot must be true`);
    if (spec.strategy?.rollingUpdate?.maxUnavailable !== 0)
      problems.push(`${who}: rollingUpdate.maxUnavailable should be 0`);
    checkRefs(who, pod);
    for (const c of pod.containers ?? []) {
      const cw = `${who} container ${c.name}`;
      if (!/:[\w.-]+$/.test(c.image ?? '')) problems.push(`${cw}: image ${c.image} has no tag`);
      for (const [probe, path] of [
        ['readinessProbe', '/health/ready'],
        ['livenessProbe', '/health/live'],
        ['startupProbe', null],
      ]) {
        const p = c[probe];
        if (!p) {
          problems.push(`${cw}: no ${probe}`);
          continue;
        }
        if (path && p.httpGet?.path !== path) problems.push(`${cw}: ${probe} must GET ${path}`);
        const port = p.httpGet?.port;
        if (
          port !== undefined &&
          !(c.ports ?? []).some((cp) => cp.name === port || cp.containerPort === port)
        )
          problems.push(`${cw}: ${probe} port ${port} is not a container port`);
      }
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory)
        problems.push(`${cw}: needs cpu and memory requests (the HPA needs cpu)`);
      if (!c.resources?.limits?.memory) problems.push(`${cw}: needs a memory limit`);
      if (!c.lifecycle?.preStop)
        problems.push(`${cw}: needs a preStop hook (endpoint removal before SIGTERM)`);
      if (c.securityContext?.allowPrivilegeEscalation !== false)
        problems.push(`${cw}: allowPrivilegeEscalation must be false`);
      const portEnv = (c.env ?? []).find((e) => e.name === 'PORT')?.value;
      const http = (c.ports ?? []).find((p) => p.name === 'http');
      if (!http || String(http.containerPort) !== portEnv)
        problems.push(
          `${cw}: env PORT (${portEnv}) must equal the "http" containerPort (${http?.containerPort})`,
        );
    }
    const svc = byKind('Service').find((s) => selects(s.spec?.selector, podLabels));
    if (!svc) problems.push(`${who}: no Service selects its pods`);
    else
      for (const sp of svc.spec.ports ?? [])
        if (
          !(pod.containers ?? []).some((c) =>
            (c.ports ?? []).some((cp) => cp.name === sp.targetPort || cp.containerPort === sp.targetPort),
          )
        )
          problems.push(
            `Service/${svc.metadata.name}: targetPort ${sp.targetPort} is not a container port of ${who}`,
          );
    const hpa = byKind('HorizontalPodAutoscaler').find(
      (h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === d.metadata.name,
    );
    if (!hpa) problems.push(`${who}: no HorizontalPodAutoscaler`);
    else {
      const cpu = (hpa.spec.metrics ?? []).find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
      if (cpu?.resource?.target?.averageUtilization !== 70)
        problems.push(`HorizontalPodAutoscaler/${hpa.metadata.name}: CPU target must be 70% utilisation`);
      if (hpa.spec.minReplicas > hpa.spec.maxReplicas)
        problems.push(`HorizontalPodAutoscaler/${hpa.metadata.name}: minReplicas > maxReplicas`);
      if (spec.replicas !== hpa.spec.minReplicas)
        problems.push(
          `${who}: replicas (${spec.replicas}) differs from its HPA minReplicas (${hpa.spec.minReplicas})`,
        );
    }
    if (!byKind('PodDisruptionBudget').some((p) => selects(p.spec?.selector?.matchLabels, podLabels)))
      problems.push(`${who}: no PodDisruptionBudget selects its pods`);
  }
  for (const h of byKind('HorizontalPodAutoscaler'))
    if (!named(h.spec?.scaleTargetRef?.kind, h.spec?.scaleTargetRef?.name))
      problems.push(
        `HorizontalPodAutoscaler/${h.metadata.name}: target ${h.spec?.scaleTargetRef?.name} does not exist`,
      );
  for (const j of byKind('Job')) {
    const who = `Job/${j.metadata.name}`;
    const pod = j.spec?.template?.spec ?? {};
    if (!['Never', 'OnFailure'].includes(pod.restartPolicy))
      problems.push(`${who}: restartPolicy must be Never or OnFailure`);
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${who}: runAsNonRoot must be true`);
    checkRefs(who, pod);
  }
  for (const s of byKind('Secret'))
    if (Object.values(s.stringData ?? {}).some((v) => /CHANGE_ME/.test(String(v))) && name.includes('prod'))
      problems.push(`Secret/${s.metadata.name}: placeholder values in a production render`);

  return { name, problems, objects, external };
}

let failed = 0;
for (const dir of dirs) {
  const { name, problems, objects, external } = await validateDir(dir);
  const counts = Object.entries(objects.reduce((m, o) => ({ ...m, [o.kind]: (m[o.kind] ?? 0) + 1 }), {}))
    .map(([k, n]) => `${k}×${n}`)
    .join(' ');
  if (problems.length) {
    failed++;
    console.error(`FAIL ${name}: ${problems.length} problem(s)`);
    for (const p of problems) console.error(`  - ${p}`);
  } else {
    const ext = external?.size ? `; Secrets from the secret manager: ${[...external].join(', ')}` : '';
    console.log(`ok   ${name}: ${objects.length} objects valid (${counts})${ext}`);
  }
}
process.exit(failed ? 1 : 0);
