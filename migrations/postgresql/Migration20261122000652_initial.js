'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122000652_initial extends Migration {

  name = 'Migration20261122000652_initial';

  async up() {
    this.addSql(`create table "api_tokens" ("id" serial primary key, "name" varchar(255) not null, "token_hash" varchar(128) not null, "user_id" varchar(255) not null, "role" varchar(16) not null, "groups" jsonb null, "created_by" varchar(255) null, "created_at" timestamptz not null, "expires_at" timestamptz null, "revoked_at" timestamptz null);`);
    this.addSql(`alter table "api_tokens" add constraint "api_tokens_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "audit_log" ("id" varchar(26) not null, "timestamp" timestamptz not null, "registry" varchar(64) null, "action" varchar(32) not null, "package" varchar(512) null, "version" varchar(255) null, "user_id" varchar(255) not null, "role" varchar(16) not null, "outcome" varchar(8) not null, "rule" varchar(64) null, "reason" text null, "ip" varchar(64) null, primary key ("id"));`);
    this.addSql(`create index "audit_log_timestamp_index" on "audit_log" ("timestamp");`);
    this.addSql(`create index "audit_log_registry_outcome_timestamp_index" on "audit_log" ("registry", "outcome", "timestamp");`);

    this.addSql(`create table "beta_channel_members" ("id" serial primary key, "registry" varchar(64) not null, "principal_type" varchar(16) not null, "principal_id" varchar(255) not null, "added_by" varchar(255) null, "added_at" timestamptz not null);`);
    this.addSql(`alter table "beta_channel_members" add constraint "beta_channel_members_registry_principal_type_prin_f2b67_unique" unique ("registry", "principal_type", "principal_id");`);

    this.addSql(`create table "blocked_packages" ("id" serial primary key, "registry" varchar(64) not null, "package_name" varchar(512) not null, "version" varchar(255) not null, "reason" text null, "blocked_by" varchar(255) null, "blocked_at" timestamptz not null);`);
    this.addSql(`alter table "blocked_packages" add constraint "blocked_packages_registry_package_name_version_unique" unique ("registry", "package_name", "version");`);

    this.addSql(`create table "cached_artifacts" ("id" serial primary key, "registry" varchar(64) not null, "storage_key" varchar(1024) not null, "package_name" varchar(512) not null, "package_version" varchar(255) null, "sha256" varchar(64) not null, "size" bigint not null, "upstream_url" text null, "cached_at" timestamptz not null, "last_accessed_at" timestamptz null);`);
    this.addSql(`create index "cached_artifacts_registry_package_name_package_version_index" on "cached_artifacts" ("registry", "package_name", "package_version");`);
    this.addSql(`create index "cached_artifacts_last_accessed_at_index" on "cached_artifacts" ("last_accessed_at");`);
    this.addSql(`alter table "cached_artifacts" add constraint "cached_artifacts_registry_storage_key_unique" unique ("registry", "storage_key");`);

    this.addSql(`create table "config_changes" ("id" serial primary key, "at" timestamptz not null, "actor" varchar(255) null, "outcome" varchar(16) not null, "summary" jsonb null, "error" text null);`);

    this.addSql(`create table "ip_blocks" ("ip" varchar(64) not null, "reason" text null, "source" varchar(16) not null, "blocked_by" varchar(255) null, "blocked_at" timestamptz not null, "expires_at" timestamptz null, primary key ("ip"));`);

    this.addSql(`create table "local_packages" ("id" serial primary key, "registry" varchar(64) not null, "name" varchar(512) not null, "normalized_name" varchar(512) not null, "visibility" varchar(16) not null default 'public', "description" text null, "created_by" varchar(255) null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "local_packages_registry_name_index" on "local_packages" ("registry", "name");`);
    this.addSql(`alter table "local_packages" add constraint "local_packages_registry_normalized_name_unique" unique ("registry", "normalized_name");`);

    this.addSql(`create table "local_versions" ("id" serial primary key, "package_id" int not null, "version" varchar(255) not null, "prerelease" boolean not null default false, "published_at" timestamptz not null, "published_by" varchar(255) null, "yanked" boolean not null default false, "yanked_at" timestamptz null, "yank_reason" text null, "deprecated" text null, "metadata" jsonb null, "size_bytes" bigint not null default '0', "signature" text null, "signature_type" varchar(64) null);`);
    this.addSql(`alter table "local_versions" add constraint "local_versions_package_id_version_unique" unique ("package_id", "version");`);

    this.addSql(`create table "local_files" ("id" serial primary key, "version_id" int not null, "filename" varchar(1024) not null, "storage_key" varchar(1024) not null, "sha256" varchar(64) not null, "size" bigint not null, "content_type" varchar(255) null, "digests" jsonb null, "metadata" jsonb null);`);
    this.addSql(`alter table "local_files" add constraint "local_files_version_id_filename_unique" unique ("version_id", "filename");`);

    this.addSql(`create table "namespace_claims" ("id" serial primary key, "registry" varchar(64) not null, "prefix" varchar(512) not null, "group_id" varchar(255) not null, "claimed_by" varchar(255) null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "namespace_claims" add constraint "namespace_claims_registry_prefix_unique" unique ("registry", "prefix");`);

    this.addSql(`create table "package_owners" ("id" serial primary key, "registry" varchar(64) not null, "package_name" varchar(512) not null, "principal_type" varchar(16) not null, "principal_id" varchar(255) not null, "role" varchar(16) not null, "created_by" varchar(255) null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "package_owners" add constraint "package_owners_registry_package_name_principal_ty_2b3fd_unique" unique ("registry", "package_name", "principal_type", "principal_id");`);

    this.addSql(`create table "package_statuses" ("id" serial primary key, "registry" varchar(64) not null, "package_name" varchar(512) not null, "package_version" varchar(255) not null, "download_count" bigint not null default '0', "first_seen_at" timestamptz not null, "last_accessed_at" timestamptz null, "published_at" timestamptz null);`);
    this.addSql(`create index "package_statuses_registry_package_name_index" on "package_statuses" ("registry", "package_name");`);
    this.addSql(`alter table "package_statuses" add constraint "package_statuses_registry_package_name_package_version_unique" unique ("registry", "package_name", "package_version");`);

    this.addSql(`create table "package_tags" ("id" serial primary key, "package_id" int not null, "tag" varchar(255) not null, "version" varchar(255) not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "package_tags" add constraint "package_tags_package_id_tag_unique" unique ("package_id", "tag");`);

    this.addSql(`create table "plugin_records" ("id" serial primary key, "registry" varchar(64) not null, "collection" varchar(128) not null, "key" varchar(1024) not null, "value" jsonb not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "plugin_records" add constraint "plugin_records_registry_collection_key_unique" unique ("registry", "collection", "key");`);

    this.addSql(`create table "rate_limit_counters" ("id" serial primary key, "key" varchar(512) not null, "window_start" bigint not null, "count" int not null default 0, "expires_at" timestamptz not null);`);
    this.addSql(`create index "rate_limit_counters_expires_at_index" on "rate_limit_counters" ("expires_at");`);
    this.addSql(`alter table "rate_limit_counters" add constraint "rate_limit_counters_key_window_start_unique" unique ("key", "window_start");`);

    this.addSql(`create table "storage_blobs" ("id" serial primary key, "backend" varchar(64) not null, "sha256" varchar(64) not null, "size" bigint not null, "refcount" int not null default 0, "created_at" timestamptz not null);`);
    this.addSql(`alter table "storage_blobs" add constraint "storage_blobs_backend_sha256_unique" unique ("backend", "sha256");`);

    this.addSql(`create table "storage_refs" ("id" serial primary key, "backend" varchar(64) not null, "key" varchar(1024) not null, "sha256" varchar(64) not null, "size" bigint not null, "content_type" varchar(255) null, "created_at" timestamptz not null);`);
    this.addSql(`create index "storage_refs_backend_sha256_index" on "storage_refs" ("backend", "sha256");`);
    this.addSql(`alter table "storage_refs" add constraint "storage_refs_backend_key_unique" unique ("backend", "key");`);

    this.addSql(`create table "system_kv" ("key" varchar(255) not null, "value" jsonb not null, "updated_at" timestamptz not null, primary key ("key"));`);

    this.addSql(`alter table "local_versions" add constraint "local_versions_package_id_foreign" foreign key ("package_id") references "local_packages" ("id") on delete cascade;`);

    this.addSql(`alter table "local_files" add constraint "local_files_version_id_foreign" foreign key ("version_id") references "local_versions" ("id") on delete cascade;`);

    this.addSql(`alter table "package_tags" add constraint "package_tags_package_id_foreign" foreign key ("package_id") references "local_packages" ("id") on delete cascade;`);
  }

  async down() {
    this.addSql(`alter table "local_versions" drop constraint "local_versions_package_id_foreign";`);
    this.addSql(`alter table "package_tags" drop constraint "package_tags_package_id_foreign";`);
    this.addSql(`alter table "local_files" drop constraint "local_files_version_id_foreign";`);

    this.addSql(`drop table if exists "api_tokens" cascade;`);
    this.addSql(`drop table if exists "audit_log" cascade;`);
    this.addSql(`drop table if exists "beta_channel_members" cascade;`);
    this.addSql(`drop table if exists "blocked_packages" cascade;`);
    this.addSql(`drop table if exists "cached_artifacts" cascade;`);
    this.addSql(`drop table if exists "config_changes" cascade;`);
    this.addSql(`drop table if exists "ip_blocks" cascade;`);
    this.addSql(`drop table if exists "local_packages" cascade;`);
    this.addSql(`drop table if exists "local_versions" cascade;`);
    this.addSql(`drop table if exists "local_files" cascade;`);
    this.addSql(`drop table if exists "namespace_claims" cascade;`);
    this.addSql(`drop table if exists "package_owners" cascade;`);
    this.addSql(`drop table if exists "package_statuses" cascade;`);
    this.addSql(`drop table if exists "package_tags" cascade;`);
    this.addSql(`drop table if exists "plugin_records" cascade;`);
    this.addSql(`drop table if exists "rate_limit_counters" cascade;`);
    this.addSql(`drop table if exists "storage_blobs" cascade;`);
    this.addSql(`drop table if exists "storage_refs" cascade;`);
    this.addSql(`drop table if exists "system_kv" cascade;`);
  }

}
exports.Migration20261122000652_initial = Migration20261122000652_initial;
