'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122000652_initial extends Migration {

  name = 'Migration20261122000652_initial';

  async up() {
    this.addSql(`create table \`api_tokens\` (\`id\` integer not null primary key autoincrement, \`name\` text not null, \`token_hash\` text not null, \`user_id\` text not null, \`role\` text not null, \`groups\` json null, \`created_by\` text null, \`created_at\` datetime not null, \`expires_at\` datetime null, \`revoked_at\` datetime null);`);
    this.addSql(`create unique index \`api_tokens_token_hash_unique\` on \`api_tokens\` (\`token_hash\`);`);

    this.addSql(`create table \`audit_log\` (\`id\` text not null primary key, \`timestamp\` datetime not null, \`registry\` text null, \`action\` text not null, \`package\` text null, \`version\` text null, \`user_id\` text not null, \`role\` text not null, \`outcome\` text not null, \`rule\` text null, \`reason\` text null, \`ip\` text null);`);
    this.addSql(`create index \`audit_log_timestamp_index\` on \`audit_log\` (\`timestamp\`);`);
    this.addSql(`create index \`audit_log_registry_outcome_timestamp_index\` on \`audit_log\` (\`registry\`, \`outcome\`, \`timestamp\`);`);

    this.addSql(`create table \`beta_channel_members\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`principal_type\` text not null, \`principal_id\` text not null, \`added_by\` text null, \`added_at\` datetime not null);`);
    this.addSql(`create unique index \`beta_channel_members_registry_principal_type_principal_id_unique\` on \`beta_channel_members\` (\`registry\`, \`principal_type\`, \`principal_id\`);`);

    this.addSql(`create table \`blocked_packages\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`package_name\` text not null, \`version\` text not null, \`reason\` text null, \`blocked_by\` text null, \`blocked_at\` datetime not null);`);
    this.addSql(`create unique index \`blocked_packages_registry_package_name_version_unique\` on \`blocked_packages\` (\`registry\`, \`package_name\`, \`version\`);`);

    this.addSql(`create table \`cached_artifacts\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`storage_key\` text not null, \`package_name\` text not null, \`package_version\` text null, \`sha256\` text not null, \`size\` bigint not null, \`upstream_url\` text null, \`cached_at\` datetime not null, \`last_accessed_at\` datetime null);`);
    this.addSql(`create index \`cached_artifacts_registry_package_name_package_version_index\` on \`cached_artifacts\` (\`registry\`, \`package_name\`, \`package_version\`);`);
    this.addSql(`create index \`cached_artifacts_last_accessed_at_index\` on \`cached_artifacts\` (\`last_accessed_at\`);`);
    this.addSql(`create unique index \`cached_artifacts_registry_storage_key_unique\` on \`cached_artifacts\` (\`registry\`, \`storage_key\`);`);

    this.addSql(`create table \`config_changes\` (\`id\` integer not null primary key autoincrement, \`at\` datetime not null, \`actor\` text null, \`outcome\` text not null, \`summary\` json null, \`error\` text null);`);

    this.addSql(`create table \`ip_blocks\` (\`ip\` text not null primary key, \`reason\` text null, \`source\` text not null, \`blocked_by\` text null, \`blocked_at\` datetime not null, \`expires_at\` datetime null);`);

    this.addSql(`create table \`local_packages\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`name\` text not null, \`normalized_name\` text not null, \`visibility\` text not null default 'public', \`description\` text null, \`created_by\` text null, \`created_at\` datetime not null, \`updated_at\` datetime not null);`);
    this.addSql(`create index \`local_packages_registry_name_index\` on \`local_packages\` (\`registry\`, \`name\`);`);
    this.addSql(`create unique index \`local_packages_registry_normalized_name_unique\` on \`local_packages\` (\`registry\`, \`normalized_name\`);`);

    this.addSql(`create table \`local_versions\` (\`id\` integer not null primary key autoincrement, \`package_id\` integer not null, \`version\` text not null, \`prerelease\` integer not null default false, \`published_at\` datetime not null, \`published_by\` text null, \`yanked\` integer not null default false, \`yanked_at\` datetime null, \`yank_reason\` text null, \`deprecated\` text null, \`metadata\` json null, \`size_bytes\` bigint not null default '0', \`signature\` text null, \`signature_type\` text null, constraint \`local_versions_package_id_foreign\` foreign key (\`package_id\`) references \`local_packages\` (\`id\`) on delete cascade);`);
    this.addSql(`create index \`local_versions_package_id_index\` on \`local_versions\` (\`package_id\`);`);
    this.addSql(`create unique index \`local_versions_package_id_version_unique\` on \`local_versions\` (\`package_id\`, \`version\`);`);

    this.addSql(`create table \`local_files\` (\`id\` integer not null primary key autoincrement, \`version_id\` integer not null, \`filename\` text not null, \`storage_key\` text not null, \`sha256\` text not null, \`size\` bigint not null, \`content_type\` text null, \`digests\` json null, \`metadata\` json null, constraint \`local_files_version_id_foreign\` foreign key (\`version_id\`) references \`local_versions\` (\`id\`) on delete cascade);`);
    this.addSql(`create index \`local_files_version_id_index\` on \`local_files\` (\`version_id\`);`);
    this.addSql(`create unique index \`local_files_version_id_filename_unique\` on \`local_files\` (\`version_id\`, \`filename\`);`);

    this.addSql(`create table \`namespace_claims\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`prefix\` text not null, \`group_id\` text not null, \`claimed_by\` text null, \`created_at\` datetime not null);`);
    this.addSql(`create unique index \`namespace_claims_registry_prefix_unique\` on \`namespace_claims\` (\`registry\`, \`prefix\`);`);

    this.addSql(`create table \`package_owners\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`package_name\` text not null, \`principal_type\` text not null, \`principal_id\` text not null, \`role\` text not null, \`created_by\` text null, \`created_at\` datetime not null);`);
    this.addSql(`create unique index \`package_owners_registry_package_name_principal_type_principal_id_unique\` on \`package_owners\` (\`registry\`, \`package_name\`, \`principal_type\`, \`principal_id\`);`);

    this.addSql(`create table \`package_statuses\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`package_name\` text not null, \`package_version\` text not null, \`download_count\` bigint not null default '0', \`first_seen_at\` datetime not null, \`last_accessed_at\` datetime null, \`published_at\` datetime null);`);
    this.addSql(`create index \`package_statuses_registry_package_name_index\` on \`package_statuses\` (\`registry\`, \`package_name\`);`);
    this.addSql(`create unique index \`package_statuses_registry_package_name_package_version_unique\` on \`package_statuses\` (\`registry\`, \`package_name\`, \`package_version\`);`);

    this.addSql(`create table \`package_tags\` (\`id\` integer not null primary key autoincrement, \`package_id\` integer not null, \`tag\` text not null, \`version\` text not null, \`updated_at\` datetime not null, constraint \`package_tags_package_id_foreign\` foreign key (\`package_id\`) references \`local_packages\` (\`id\`) on delete cascade);`);
    this.addSql(`create index \`package_tags_package_id_index\` on \`package_tags\` (\`package_id\`);`);
    this.addSql(`create unique index \`package_tags_package_id_tag_unique\` on \`package_tags\` (\`package_id\`, \`tag\`);`);

    this.addSql(`create table \`plugin_records\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`collection\` text not null, \`key\` text not null, \`value\` json not null, \`updated_at\` datetime not null);`);
    this.addSql(`create unique index \`plugin_records_registry_collection_key_unique\` on \`plugin_records\` (\`registry\`, \`collection\`, \`key\`);`);

    this.addSql(`create table \`rate_limit_counters\` (\`id\` integer not null primary key autoincrement, \`key\` text not null, \`window_start\` bigint not null, \`count\` integer not null default 0, \`expires_at\` datetime not null);`);
    this.addSql(`create index \`rate_limit_counters_expires_at_index\` on \`rate_limit_counters\` (\`expires_at\`);`);
    this.addSql(`create unique index \`rate_limit_counters_key_window_start_unique\` on \`rate_limit_counters\` (\`key\`, \`window_start\`);`);

    this.addSql(`create table \`storage_blobs\` (\`id\` integer not null primary key autoincrement, \`backend\` text not null, \`sha256\` text not null, \`size\` bigint not null, \`refcount\` integer not null default 0, \`created_at\` datetime not null);`);
    this.addSql(`create unique index \`storage_blobs_backend_sha256_unique\` on \`storage_blobs\` (\`backend\`, \`sha256\`);`);

    this.addSql(`create table \`storage_refs\` (\`id\` integer not null primary key autoincrement, \`backend\` text not null, \`key\` text not null, \`sha256\` text not null, \`size\` bigint not null, \`content_type\` text null, \`created_at\` datetime not null);`);
    this.addSql(`create index \`storage_refs_backend_sha256_index\` on \`storage_refs\` (\`backend\`, \`sha256\`);`);
    this.addSql(`create unique index \`storage_refs_backend_key_unique\` on \`storage_refs\` (\`backend\`, \`key\`);`);

    this.addSql(`create table \`system_kv\` (\`key\` text not null primary key, \`value\` json not null, \`updated_at\` datetime not null);`);
  }

  async down() {

    this.addSql(`drop table if exists \`api_tokens\`;`);
    this.addSql(`drop table if exists \`audit_log\`;`);
    this.addSql(`drop table if exists \`beta_channel_members\`;`);
    this.addSql(`drop table if exists \`blocked_packages\`;`);
    this.addSql(`drop table if exists \`cached_artifacts\`;`);
    this.addSql(`drop table if exists \`config_changes\`;`);
    this.addSql(`drop table if exists \`ip_blocks\`;`);
    this.addSql(`drop table if exists \`local_packages\`;`);
    this.addSql(`drop table if exists \`local_versions\`;`);
    this.addSql(`drop table if exists \`local_files\`;`);
    this.addSql(`drop table if exists \`namespace_claims\`;`);
    this.addSql(`drop table if exists \`package_owners\`;`);
    this.addSql(`drop table if exists \`package_statuses\`;`);
    this.addSql(`drop table if exists \`package_tags\`;`);
    this.addSql(`drop table if exists \`plugin_records\`;`);
    this.addSql(`drop table if exists \`rate_limit_counters\`;`);
    this.addSql(`drop table if exists \`storage_blobs\`;`);
    this.addSql(`drop table if exists \`storage_refs\`;`);
    this.addSql(`drop table if exists \`system_kv\`;`);
  }

}
exports.Migration20261122000652_initial = Migration20261122000652_initial;
