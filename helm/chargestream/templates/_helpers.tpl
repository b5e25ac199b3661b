{{/* Names */}}
{{- define "chargestream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "chargestream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of one component's objects: (dict "root" $ "component" "gateway") */}}
{{- define "chargestream.componentName" -}}
{{- printf "%s-%s" (include "chargestream.fullname" .root | trunc 50 | trimSuffix "-") .component }}
{{- end }}

{{- define "chargestream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "chargestream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels: (dict "root" $ "component" "gateway") */}}
{{- define "chargestream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "chargestream.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: chargestream
{{- end }}

{{- define "chargestream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chargestream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{- define "chargestream.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The chart's own Secret (long-running pods) and the bootstrap hook's Secret */}}
{{- define "chargestream.secretName" -}}
{{- include "chargestream.fullname" . }}
{{- end }}

{{- define "chargestream.bootstrapSecretName" -}}
{{- printf "%s-bootstrap" (include "chargestream.fullname" . | trunc 53 | trimSuffix "-") }}
{{- end }}

{{- define "chargestream.kafkaSasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}true{{ end }}
{{- end }}

{{- define "chargestream.kafkaTls" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") }}true{{ end }}
{{- end }}

{{- define "chargestream.kafkaCaFile" -}}/etc/chargestream/kafka-ca/{{ .Values.kafka.tls.caKey }}{{- end }}
{{- define "chargestream.cassandraCaFile" -}}/etc/chargestream/cassandra-ca/{{ .Values.cassandra.tls.caKey }}{{- end }}

{{/*
Every non-secret setting as CHARGESTREAM_* -> string, one "KEY: value" line each: the
ConfigMap's data, and the bootstrap Job's env (a hook runs before the ConfigMap exists).
*/}}
{{- define "chargestream.config" -}}
{{- $v := .Values }}
{{- $config := dict
  "CHARGESTREAM_MODE" "stack"
  "CHARGESTREAM_OCPP_HOST" "0.0.0.0"
  "CHARGESTREAM_API_HOST" "0.0.0.0"
  "CHARGESTREAM_UI_HOST" "0.0.0.0"
  "CHARGESTREAM_HEALTH_HOST" "0.0.0.0"
  "CHARGESTREAM_DATA_DIR" "/var/lib/chargestream"
  "CHARGESTREAM_OCPP_PORT" $v.ports.ocpp
  "CHARGESTREAM_OCPP_TLS_PORT" (ternary $v.ports.ocppTls 0 $v.gateway.tls.enabled)
  "CHARGESTREAM_DEFAULT_SECURITY_PROFILE" $v.ocpp.defaultSecurityProfile
  "CHARGESTREAM_HEALTH_PORT" $v.ports.health
  "CHARGESTREAM_API_PORT" $v.ports.api
  "CHARGESTREAM_FTP_HOST" "0.0.0.0"
  "CHARGESTREAM_FTP_PORT" (ternary $v.ports.ftp 0 $v.api.ftp.enabled)
  "CHARGESTREAM_FTP_PASSIVE_PORTS" (printf "%v-%v" $v.api.ftp.passivePorts.first $v.api.ftp.passivePorts.last)
  "CHARGESTREAM_DIAGNOSTICS_RETENTION_DAYS" $v.api.diagnostics.retentionDays
  "CHARGESTREAM_UI_PORT" $v.ports.ui
  "CHARGESTREAM_API_URL" (printf "http://%s:%v" (include "chargestream.componentName" (dict "root" . "component" "api")) $v.api.service.port)
  "CHARGESTREAM_REGISTRATION_POLICY" $v.ocpp.registrationPolicy
  "CHARGESTREAM_HEARTBEAT_INTERVAL" $v.ocpp.heartbeatInterval
  "CHARGESTREAM_MAX_FRAME_BYTES" $v.ocpp.maxFrameBytes
  "CHARGESTREAM_LENIENT" $v.ocpp.lenient
  "CHARGESTREAM_ACCEPT_UNKNOWN_ID_TAGS" $v.ocpp.acceptUnknownIdTags
  "CHARGESTREAM_COMMAND_TIMEOUT" $v.ocpp.commandTimeout
  "CHARGESTREAM_CACHE_TTL" $v.ocpp.cacheTtl
  "CHARGESTREAM_OFFLINE_AFTER" $v.ocpp.offlineAfter
  "CHARGESTREAM_SESSION_REFRESH" $v.ocpp.sessionRefresh
  "CHARGESTREAM_KAFKA_BOOTSTRAP" $v.kafka.bootstrapServers
  "CHARGESTREAM_KAFKA_SECURITY_PROTOCOL" $v.kafka.securityProtocol
  "CHARGESTREAM_FRAMES_TOPIC" $v.kafka.framesTopic
  "CHARGESTREAM_FRAMES_PARTITIONS" $v.kafka.framesPartitions
  "CHARGESTREAM_WORKER_GROUP" $v.kafka.workerGroup
  "CHARGESTREAM_WORKER_STALL_AFTER" $v.worker.stallAfter
  "CHARGESTREAM_CASSANDRA_HOSTS" $v.cassandra.contactPoints
  "CHARGESTREAM_CASSANDRA_PORT" $v.cassandra.port
  "CHARGESTREAM_CASSANDRA_KEYSPACE" $v.cassandra.keyspace
  "CHARGESTREAM_CASSANDRA_REPLICATION" $v.cassandra.replication
  "CHARGESTREAM_CASSANDRA_STATUS_TTL_DAYS" $v.cassandra.statusTtlDays
  "CHARGESTREAM_CASSANDRA_METER_TTL_DAYS" $v.cassandra.meterTtlDays
  "CHARGESTREAM_LOG_LEVEL" $v.logging.level
  "CHARGESTREAM_LOG_FORMAT" $v.logging.format
}}
{{- if include "chargestream.kafkaSasl" . }}
{{- $_ := set $config "CHARGESTREAM_KAFKA_SASL_MECHANISM" $v.kafka.sasl.mechanism }}
{{- $_ := set $config "CHARGESTREAM_KAFKA_SASL_USERNAME" $v.kafka.sasl.username }}
{{- end }}
{{- if and (include "chargestream.kafkaTls" .) $v.kafka.tls.caSecret }}
{{- $_ := set $config "CHARGESTREAM_KAFKA_CA_FILE" (include "chargestream.kafkaCaFile" .) }}
{{- end }}
{{- if $v.cassandra.tls.enabled }}
{{- $_ := set $config "CHARGESTREAM_CASSANDRA_CA_FILE" (include "chargestream.cassandraCaFile" .) }}
{{- end }}
{{- if $v.api.ftp.url }}
{{- $_ := set $config "CHARGESTREAM_FTP_URL" $v.api.ftp.url }}
{{- end }}
{{- if $v.api.ftp.passiveAddress }}
{{- $_ := set $config "CHARGESTREAM_FTP_PASSIVE_ADDRESS" $v.api.ftp.passiveAddress }}
{{- end }}
{{- if $v.cassandra.localDc }}
{{- $_ := set $config "CHARGESTREAM_CASSANDRA_LOCAL_DC" $v.cassandra.localDc }}
{{- end }}
{{- with $v.notifications.smtp }}
{{- if .host }}
{{- $_ := set $config "CHARGESTREAM_SMTP_HOST" .host }}
{{- $_ := set $config "CHARGESTREAM_SMTP_PORT" .port }}
{{- $_ := set $config "CHARGESTREAM_SMTP_FROM" .from }}
{{- $_ := set $config "CHARGESTREAM_SMTP_STARTTLS" .starttls }}
{{- end }}
{{- if .user }}
{{- $_ := set $config "CHARGESTREAM_SMTP_USER" .user }}
{{- end }}
{{- end }}
{{- range $key, $value := merge (deepCopy $v.extraConfig) $config }}
{{ $key }}: {{ toString $value | quote }}
{{- end }}
{{- end }}

{{/*
One secret variable: from the existing Secret if one is named, else from `secret` (the chart's)
if the value is set, else nothing. (dict "env" NAME "value" V "existingSecret" S
"existingKey" K "secret" CHART_SECRET "key" CHART_KEY)
*/}}
{{- define "chargestream.secretEnvVar" -}}
{{- if or .existingSecret .value }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ default .secret .existingSecret }}
      key: {{ ternary .existingKey .key (not (empty .existingSecret)) }}
{{- end }}
{{- end }}

{{/*
The credentials a process needs, as env entries:
(dict "root" $ "secret" NAME "kafka" BOOL "apiToken" BOOL "smtp" BOOL); every process needs
Cassandra's.
*/}}
{{- define "chargestream.secretEnv" -}}
{{- $v := .root.Values }}
{{- if and .kafka (include "chargestream.kafkaSasl" .root) }}
{{- include "chargestream.secretEnvVar" (dict "env" "CHARGESTREAM_KAFKA_SASL_PASSWORD" "value" $v.kafka.sasl.password "existingSecret" $v.kafka.sasl.existingSecret "existingKey" $v.kafka.sasl.passwordKey "secret" .secret "key" "kafka-sasl-password") }}
{{- end }}
{{- include "chargestream.secretEnvVar" (dict "env" "CHARGESTREAM_CASSANDRA_USERNAME" "value" $v.cassandra.auth.username "existingSecret" $v.cassandra.auth.existingSecret "existingKey" $v.cassandra.auth.usernameKey "secret" .secret "key" "cassandra-username") }}
{{- include "chargestream.secretEnvVar" (dict "env" "CHARGESTREAM_CASSANDRA_PASSWORD" "value" $v.cassandra.auth.password "existingSecret" $v.cassandra.auth.existingSecret "existingKey" $v.cassandra.auth.passwordKey "secret" .secret "key" "cassandra-password") }}
{{- if .smtp }}
{{- include "chargestream.secretEnvVar" (dict "env" "CHARGESTREAM_SMTP_PASSWORD" "value" $v.notifications.smtp.password "existingSecret" $v.notifications.smtp.existingSecret "existingKey" $v.notifications.smtp.passwordKey "secret" .secret "key" "smtp-password") }}
{{- end }}
{{- if .apiToken }}
{{- include "chargestream.secretEnvVar" (dict "env" "CHARGESTREAM_API_TOKEN" "value" (include "chargestream.apiToken" .root) "existingSecret" $v.api.token.existingSecret "existingKey" $v.api.token.key "secret" .secret "key" "api-token") }}
{{- end }}
{{- end }}

{{/*
The API token the chart keeps in its Secret (without api.token.existingSecret): api.token.value,
else the one the release's Secret already holds (an upgrade keeps it), else 43 random characters
(crypto/rand), made once per render. The API never runs without one.
*/}}
{{- define "chargestream.apiToken" -}}
{{- $token := .Values.api.token }}
{{- if not (hasKey $token "rendered") }}
{{- $value := $token.value }}
{{- if not $value }}
{{- $kept := lookup "v1" "Secret" .Release.Namespace (include "chargestream.secretName" .) }}
{{- $value = index ($kept.data | default dict) "api-token" | default "" | b64dec }}
{{- end }}
{{- $_ := set $token "rendered" ($value | default (randAlphaNum 43)) }}
{{- end }}
{{- $token.rendered }}
{{- end }}

{{/*
The chart-managed credentials, as Secret stringData lines: (dict "root" $ "running" BOOL);
running: the chart's Secret of the long-running pods, which alone need the API token and the
SMTP password; else the bootstrap hook's.
*/}}
{{- define "chargestream.secretData" -}}
{{- $v := .root.Values }}
{{- if and (include "chargestream.kafkaSasl" .root) $v.kafka.sasl.password (not $v.kafka.sasl.existingSecret) }}
kafka-sasl-password: {{ $v.kafka.sasl.password | quote }}
{{- end }}
{{- if not $v.cassandra.auth.existingSecret }}
{{- with $v.cassandra.auth.username }}
cassandra-username: {{ . | quote }}
{{- end }}
{{- with $v.cassandra.auth.password }}
cassandra-password: {{ . | quote }}
{{- end }}
{{- end }}
{{- if and .running $v.notifications.smtp.password (not $v.notifications.smtp.existingSecret) }}
smtp-password: {{ $v.notifications.smtp.password | quote }}
{{- end }}
{{- if and .running (not $v.api.token.existingSecret) }}
api-token: {{ include "chargestream.apiToken" .root | quote }}
{{- end }}
{{- end }}

{{- define "chargestream.nodeIdEnv" -}}
- name: CHARGESTREAM_NODE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}

{{/* Volumes every pod has: a writable /tmp and the CA certificates it needs */}}
{{- define "chargestream.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- if and (include "chargestream.kafkaTls" .) .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    items:
      - key: {{ .Values.kafka.tls.caKey }}
        path: {{ .Values.kafka.tls.caKey }}
{{- end }}
{{- if .Values.cassandra.tls.enabled }}
- name: cassandra-ca
  secret:
    secretName: {{ .Values.cassandra.tls.caSecret }}
    items:
      - key: {{ .Values.cassandra.tls.caKey }}
        path: {{ .Values.cassandra.tls.caKey }}
{{- end }}
{{- end }}

{{- define "chargestream.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and (include "chargestream.kafkaTls" .) .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/chargestream/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.cassandra.tls.enabled }}
- name: cassandra-ca
  mountPath: /etc/chargestream/cassandra-ca
  readOnly: true
{{- end }}
{{- end }}

{{/*
TLS in the gateway (gateway.tls): its certificates, one projected read-only volume of the
Secrets, and the settings naming the files. 0440: the kubelet makes the files root-owned with
the pod's fsGroup as group, so the process (runAsGroup = fsGroup) reads them and nobody else.
*/}}
{{- define "chargestream.tlsDir" -}}/etc/chargestream/tls{{- end }}

{{- define "chargestream.tlsVolume" -}}
{{- $tls := .Values.gateway.tls }}
- name: tls
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ $tls.existingSecret }}
          items:
            - {key: tls.crt, path: server.crt}
            - {key: tls.key, path: server.key}
      - secret:
          name: {{ $tls.ca.existingSecret }}
          items:
            - {key: tls.crt, path: ca.crt}
            - {key: tls.key, path: ca.key}
      {{- with $tls.clientCa.existingSecret }}
      - secret:
          name: {{ . }}
          items:
            - {key: {{ $tls.clientCa.key }}, path: client-ca.crt}
      {{- end }}
{{- end }}

{{- define "chargestream.tlsVolumeMount" -}}
- name: tls
  mountPath: {{ include "chargestream.tlsDir" . }}
  readOnly: true
{{- end }}

{{- define "chargestream.tlsEnv" -}}
{{- $dir := include "chargestream.tlsDir" . }}
- name: CHARGESTREAM_TLS_CERT_FILE
  value: {{ $dir }}/server.crt
- name: CHARGESTREAM_TLS_KEY_FILE
  value: {{ $dir }}/server.key
- name: CHARGESTREAM_TLS_CLIENT_CA_FILE
  value: {{ $dir }}/{{ ternary "client-ca.crt" "ca.crt" (not (empty .Values.gateway.tls.clientCa.existingSecret)) }}
- name: CHARGESTREAM_CA_CERT_FILE
  value: {{ $dir }}/ca.crt
- name: CHARGESTREAM_CA_KEY_FILE
  value: {{ $dir }}/ca.key
{{- end }}

{{/* Pod template annotations: roll the pods when the settings or the chart's Secret change */}}
{{- define "chargestream.podAnnotations" -}}
checksum/config: {{ include "chargestream.config" .root | sha256sum }}
checksum/secret: {{ printf "%s%s" (include "chargestream.secretData" (dict "root" .root "running" true)) (include "chargestream.operatorsJson" .root) | sha256sum }}
{{- with .values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "chargestream.operatorsJson" -}}
{{- if and .Values.ui.enabled .Values.ui.operators.hashes (not .Values.ui.operators.existingSecret) }}
{{- toPrettyJson .Values.ui.operators.hashes }}
{{- end }}
{{- end }}

{{/*
The pod fields every component shares: (dict "root" $ "component" NAME "values" COMPONENT_VALUES)
*/}}
{{- define "chargestream.podCommon" -}}
{{- $root := .root }}
serviceAccountName: {{ include "chargestream.serviceAccountName" $root }}
automountServiceAccountToken: false
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- range . }}
  {{- $constraint := deepCopy . }}
  {{- if not $constraint.labelSelector }}
  {{- $_ := set $constraint "labelSelector" (dict "matchLabels" (include "chargestream.selectorLabels" $ | fromYaml)) }}
  {{- end }}
  - {{ toYaml $constraint | indent 4 | trim }}
  {{- end }}
{{- end }}
{{- end }}

{{/* The container fields every component shares: (dict "root" $ "values" COMPONENT_VALUES) */}}
{{- define "chargestream.containerCommon" -}}
image: {{ include "chargestream.image" .root }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .root.Values.securityContext | nindent 2 }}
resources:
  {{- toYaml .values.resources | nindent 2 }}
{{- end }}

{{/* The checks of the values that values.schema.json cannot express */}}
{{- define "chargestream.validate" -}}
{{- $v := .Values }}
{{- if gt (int $v.worker.replicas) (int $v.kafka.framesPartitions) }}
{{- fail (printf "worker.replicas (%v) exceeds kafka.framesPartitions (%v): a worker without a partition of the frames topic does nothing" $v.worker.replicas $v.kafka.framesPartitions) }}
{{- end }}
{{- if include "chargestream.kafkaSasl" . }}
{{- if not $v.kafka.sasl.username }}
{{- fail (printf "kafka.securityProtocol %s needs kafka.sasl.username" $v.kafka.securityProtocol) }}
{{- end }}
{{- if not (or $v.kafka.sasl.password $v.kafka.sasl.existingSecret) }}
{{- fail (printf "kafka.securityProtocol %s needs kafka.sasl.password or kafka.sasl.existingSecret" $v.kafka.securityProtocol) }}
{{- end }}
{{- end }}
{{- if and $v.kafka.tls.caSecret (not (include "chargestream.kafkaTls" .)) }}
{{- fail (printf "kafka.tls.caSecret is set but kafka.securityProtocol is %s: use SSL or SASL_SSL" $v.kafka.securityProtocol) }}
{{- end }}
{{- $passive := $v.api.ftp.passivePorts }}
{{- if or (lt (int $passive.last) (int $passive.first)) (gt (sub (int $passive.last) (int $passive.first)) 99) }}
{{- fail (printf "api.ftp.passivePorts %v-%v: give first <= last, at most 100 ports" $passive.first $passive.last) }}
{{- end }}
{{- if and $v.cassandra.tls.enabled (not $v.cassandra.tls.caSecret) }}
{{- fail "cassandra.tls.enabled needs cassandra.tls.caSecret" }}
{{- end }}
{{- if and (not $v.cassandra.auth.existingSecret) (ne (empty $v.cassandra.auth.username) (empty $v.cassandra.auth.password)) }}
{{- fail "cassandra.auth: set both username and password, or existingSecret" }}
{{- end }}
{{- $smtp := $v.notifications.smtp }}
{{- if and (or $smtp.user $smtp.password $smtp.existingSecret) (not $smtp.host) }}
{{- fail "notifications.smtp: a user, password or existingSecret needs notifications.smtp.host" }}
{{- end }}
{{- if ne (empty $smtp.user) (not (or $smtp.password $smtp.existingSecret)) }}
{{- fail "notifications.smtp: set user with password or existingSecret, or none of them (no login)" }}
{{- end }}
{{- $profile := int $v.ocpp.securityProfile }}
{{- $tls := $v.gateway.tls }}
{{- if and (eq $profile 2) (eq $v.ocpp.tlsTermination "none") (not $tls.enabled) }}
{{- fail "ocpp.securityProfile 2 needs ocpp.tlsTermination service or ingress, or gateway.tls.enabled" }}
{{- end }}
{{- if and (eq $profile 3) (not $tls.enabled) }}
{{- fail "ocpp.securityProfile 3 needs gateway.tls.enabled: only a gateway that terminates TLS sees client certificates" }}
{{- end }}
{{- if and (ge (int $v.ocpp.defaultSecurityProfile) 2) (not $tls.enabled) }}
{{- fail (printf "ocpp.defaultSecurityProfile %v needs gateway.tls.enabled: behind a terminating load balancer or Ingress the gateway sees no TLS" $v.ocpp.defaultSecurityProfile) }}
{{- end }}
{{- if $tls.enabled }}
{{- if not $tls.existingSecret }}
{{- fail "gateway.tls.enabled needs gateway.tls.existingSecret (a kubernetes.io/tls Secret with the server certificate)" }}
{{- end }}
{{- if not $tls.ca.existingSecret }}
{{- fail "gateway.tls.enabled needs gateway.tls.ca.existingSecret: one CA (tls.crt, tls.key) shared by every gateway pod signs the charge points' certificates" }}
{{- end }}
{{- if and (not $tls.plainPort) $v.gateway.ingress.enabled }}
{{- fail "gateway.ingress routes to the plain OCPP port: set gateway.tls.plainPort true" }}
{{- end }}
{{- else if not $tls.plainPort }}
{{- fail "gateway.tls.plainPort false would leave the gateway Service without a port: set gateway.tls.enabled" }}
{{- end }}
{{- if and (lt $profile 2) (ne $v.ocpp.tlsTermination "none") }}
{{- fail (printf "ocpp.tlsTermination %s is security profile 2: set ocpp.securityProfile 2" $v.ocpp.tlsTermination) }}
{{- end }}
{{- if eq $v.ocpp.tlsTermination "ingress" }}
{{- if not (and $v.gateway.ingress.enabled $v.gateway.ingress.host $v.gateway.ingress.tlsSecretName) }}
{{- fail "ocpp.tlsTermination ingress needs gateway.ingress enabled with host and tlsSecretName" }}
{{- end }}
{{- end }}
{{- $passwords := $v.ocpp.chargePointPasswords }}
{{- if and (eq $profile 0) (or $passwords.passwords $passwords.existingSecret) }}
{{- fail "ocpp.chargePointPasswords are Basic auth: set ocpp.securityProfile 1, 2 or 3" }}
{{- end }}
{{- range $id, $password := $passwords.passwords }}
{{- if or (lt (len (toString $password)) 16) (gt (len (toString $password)) 40) }}
{{- fail (printf "ocpp.chargePointPasswords.passwords.%s: a password has 16 to 40 characters" $id) }}
{{- end }}
{{- end }}
{{- if and $v.gateway.ingress.enabled (not $v.gateway.ingress.host) }}
{{- fail "gateway.ingress.enabled needs gateway.ingress.host" }}
{{- end }}
{{- if and $v.api.token.value (lt (len (toString $v.api.token.value)) 16) }}
{{- fail "api.token.value: an API token has at least 16 characters (empty: the chart makes one)" }}
{{- end }}
{{- if and $v.ui.enabled $v.ui.ingress.enabled (not $v.ui.ingress.host) }}
{{- fail "ui.ingress.enabled needs ui.ingress.host" }}
{{- end }}
{{- end }}
