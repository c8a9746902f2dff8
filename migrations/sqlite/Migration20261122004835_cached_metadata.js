'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const { Migration } = require('@mikro-orm/migrations');

class Migration20261122004835_cached_metadata extends Migration {

  name = 'Migration20261122004835_cached_metadata';

  async up() {
    this.addSql(`create table \`cached_metadata\` (\`id\` integer not null primary key autoincrement, \`registry\` text not null, \`key_hash\` text not null, \`cache_key\` text not null, \`package_name\` text null, \`storage_key\` text not null, \`sha256\` text not null, \`size\` bigint not null, \`content_type\` text not null, \`etag\` text null, \`last_modified\` text null, \`upstream\` text not null, \`fetched_at\` datetime not null, \`expires_at\` datetime not null);`);
    this.addSql(`create index \`cached_metadata_registry_package_name_index\` on \`cached_metadata\` (\`registry\`, \`package_name\`);`);
    this.addSql(`create unique index \`cached_metadata_registry_key_hash_unique\` on \`cached_metadata\` (\`registry\`, \`key_hash\`);`);
  }

  async down() {
    this.addSql(`drop table if exists \`cached_metadata\`;`);
  }

}
exports.Migration20261122004835_cached_metadata = Migration20261122004835_cached_metadata;
