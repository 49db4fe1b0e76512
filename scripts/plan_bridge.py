"""The plan bridge: Pulumi resource records in, a Terraform-plan-shaped JSON out, for checkov.

checkov cannot read Pulumi programs, but pulumi-aws is bridged from the Terraform AWS provider, so
every resource is a Terraform resource under another name. This module renames them back:

- an explicit `TYPE_MAP` from pulumi-aws type tokens to Terraform types (there is no mechanical rule:
  `aws:rds/instance:Instance` is `aws_db_instance`); an unknown type is an error naming the token,
  never a silent skip, because a resource checkov never sees is a resource nobody checked;
- camelCase inputs become snake_case attributes (digit-aware: `ipv6CidrBlock` -> `ipv6_cidr_block`),
  plus the per-type renames where Pulumi pluralized a Terraform block (`rules` -> `rule`);
  nested objects become lists of dicts (Terraform blocks), map attributes (`tags`) stay dicts;
- an input that came from another resource's output (the recorded property dependencies) becomes a
  Terraform reference (`"aws_s3_bucket.storage_phi_documents.id"`) in `planned_values` and a
  `configuration` expression, which is how checkov's graph checks (CKV2_*) connect resources;
- component resources become child modules (`module.storage.aws_s3_bucket.storage_phi_documents`);
- `protect` / `retainOnDelete` travel as `pulumi_protect` / `pulumi_retain_on_delete`, for our
  policies on deletion protection of PHI, audit and backup stores (164.308(a)(7)(ii)(A), 164.312(c)(1)).

checkov builds its graph from a plan as one flat module (vertices are named `<type>.<name>`), so
references are written module-relative (`aws_s3_bucket.x.id`) even across modules, and Terraform names
are unique per type across the whole plan. Everything here is linear in the size of the records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scripts.errors import BadInput
from scripts.synth import SECRET_MASK, ResourceRecord

FORMAT_VERSION = "1.2"
TERRAFORM_VERSION = "1.9.0"
PROVIDER_NAME = "registry.terraform.io/hashicorp/aws"
PROVIDER_PREFIX = "pulumi:providers:"
STACK_TYPE = "pulumi:pulumi:Stack"
ADOPTED_INPUT = "adoptedServices"  # the input infra/detection.py's component records adopted singletons in

_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class UnknownResourceType(BadInput):
    """A pulumi type token with no entry in TYPE_MAP: checkov would never see the resource."""


class EmptyPlan(BadInput):
    """Nothing to check: a gate that passes an empty plan proves nothing."""


# Every pulumi-aws type token the kit uses (or a contractor is likely to add), with its Terraform
# type. Checked against pulumi-aws's registered tokens and every bundled stack's synthesis by tests.
TYPE_MAP: dict[str, str] = {
    # accessanalyzer
    "aws:accessanalyzer/analyzer:Analyzer": "aws_accessanalyzer_analyzer",
    "aws:accessanalyzer/archiveRule:ArchiveRule": "aws_accessanalyzer_archive_rule",
    # acm
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    # backup
    "aws:backup/framework:Framework": "aws_backup_framework",
    "aws:backup/globalSettings:GlobalSettings": "aws_backup_global_settings",
    "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault": "aws_backup_logically_air_gapped_vault",
    "aws:backup/plan:Plan": "aws_backup_plan",
    "aws:backup/regionSettings:RegionSettings": "aws_backup_region_settings",
    "aws:backup/reportPlan:ReportPlan": "aws_backup_report_plan",
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": "aws_backup_restore_testing_plan",
    "aws:backup/restoreTestingSelection:RestoreTestingSelection": "aws_backup_restore_testing_selection",
    "aws:backup/selection:Selection": "aws_backup_selection",
    "aws:backup/vault:Vault": "aws_backup_vault",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "aws_backup_vault_lock_configuration",
    "aws:backup/vaultNotifications:VaultNotifications": "aws_backup_vault_notifications",
    "aws:backup/vaultPolicy:VaultPolicy": "aws_backup_vault_policy",
    # cfg (AWS Config)
    "aws:cfg/aggregateAuthorization:AggregateAuthorization": "aws_config_aggregate_authorization",
    "aws:cfg/configurationAggregator:ConfigurationAggregator": "aws_config_configuration_aggregator",
    "aws:cfg/conformancePack:ConformancePack": "aws_config_conformance_pack",
    "aws:cfg/deliveryChannel:DeliveryChannel": "aws_config_delivery_channel",
    "aws:cfg/recorder:Recorder": "aws_config_configuration_recorder",
    "aws:cfg/recorderStatus:RecorderStatus": "aws_config_configuration_recorder_status",
    "aws:cfg/remediationConfiguration:RemediationConfiguration": "aws_config_remediation_configuration",
    "aws:cfg/retentionConfiguration:RetentionConfiguration": "aws_config_retention_configuration",
    "aws:cfg/rule:Rule": "aws_config_config_rule",
    # cloudtrail
    "aws:cloudtrail/eventDataStore:EventDataStore": "aws_cloudtrail_event_data_store",
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    # cloudwatch (metrics, logs and EventBridge)
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "aws_cloudwatch_composite_alarm",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/eventBus:EventBus": "aws_cloudwatch_event_bus",
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": "aws_cloudwatch_event_bus_policy",
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy": "aws_cloudwatch_log_data_protection_policy",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "aws_cloudwatch_log_metric_filter",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "aws_cloudwatch_log_resource_policy",
    "aws:cloudwatch/logStream:LogStream": "aws_cloudwatch_log_stream",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": "aws_cloudwatch_log_subscription_filter",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:cloudwatch/queryDefinition:QueryDefinition": "aws_cloudwatch_query_definition",
    # ebs
    "aws:ebs/defaultKmsKey:DefaultKmsKey": "aws_ebs_default_kms_key",
    "aws:ebs/encryptionByDefault:EncryptionByDefault": "aws_ebs_encryption_by_default",
    "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess": "aws_ebs_snapshot_block_public_access",
    "aws:ebs/volume:Volume": "aws_ebs_volume",
    # ec2 and vpc
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "aws_default_network_acl",
    "aws:ec2/defaultRouteTable:DefaultRouteTable": "aws_default_route_table",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/defaultVpc:DefaultVpc": "aws_default_vpc",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "aws_egress_only_internet_gateway",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess": "aws_ec2_image_block_public_access",
    "aws:ec2/instance:Instance": "aws_instance",
    "aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults": "aws_ec2_instance_metadata_defaults",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation": "aws_main_route_table_association",
    "aws:ec2/managedPrefixList:ManagedPrefixList": "aws_ec2_managed_prefix_list",
    "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry": "aws_ec2_managed_prefix_list_entry",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/networkAcl:NetworkAcl": "aws_network_acl",
    "aws:ec2/networkAclAssociation:NetworkAclAssociation": "aws_network_acl_association",
    "aws:ec2/networkAclRule:NetworkAclRule": "aws_network_acl_rule",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",
    "aws:ec2/serialConsoleAccess:SerialConsoleAccess": "aws_ec2_serial_console_access",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcBlockPublicAccessOptions:VpcBlockPublicAccessOptions": "aws_vpc_block_public_access_options",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": "aws_vpc_endpoint_policy",
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": "aws_vpc_endpoint_route_table_association",
    "aws:ec2/vpcEndpointSubnetAssociation:VpcEndpointSubnetAssociation": "aws_vpc_endpoint_subnet_association",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    # guardduty
    "aws:guardduty/detector:Detector": "aws_guardduty_detector",
    "aws:guardduty/detectorFeature:DetectorFeature": "aws_guardduty_detector_feature",
    "aws:guardduty/filter:Filter": "aws_guardduty_filter",
    "aws:guardduty/iPSet:IPSet": "aws_guardduty_ipset",
    "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan": "aws_guardduty_malware_protection_plan",
    "aws:guardduty/publishingDestination:PublishingDestination": "aws_guardduty_publishing_destination",
    "aws:guardduty/threatIntelSet:ThreatIntelSet": "aws_guardduty_threatintelset",
    # iam
    "aws:iam/accountAlias:AccountAlias": "aws_iam_account_alias",
    "aws:iam/accountPasswordPolicy:AccountPasswordPolicy": "aws_iam_account_password_policy",
    "aws:iam/group:Group": "aws_iam_group",
    "aws:iam/groupMembership:GroupMembership": "aws_iam_group_membership",
    "aws:iam/groupPolicy:GroupPolicy": "aws_iam_group_policy",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "aws_iam_group_policy_attachment",
    "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/policyAttachment:PolicyAttachment": "aws_iam_policy_attachment",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive": "aws_iam_role_policies_exclusive",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "aws_iam_role_policy_attachments_exclusive",
    "aws:iam/samlProvider:SamlProvider": "aws_iam_saml_provider",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": "aws_iam_service_linked_role",
    "aws:iam/user:User": "aws_iam_user",
    "aws:iam/userGroupMembership:UserGroupMembership": "aws_iam_user_group_membership",
    "aws:iam/userPolicy:UserPolicy": "aws_iam_user_policy",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "aws_iam_user_policy_attachment",
    "aws:iam/virtualMfaDevice:VirtualMfaDevice": "aws_iam_virtual_mfa_device",
    # inspector2, macie2
    "aws:inspector2/enabler:Enabler": "aws_inspector2_enabler",
    "aws:macie2/account:Account": "aws_macie2_account",
    "aws:macie2/classificationJob:ClassificationJob": "aws_macie2_classification_job",
    # kms
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/grant:Grant": "aws_kms_grant",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:kms/keyPolicy:KeyPolicy": "aws_kms_key_policy",
    "aws:kms/replicaKey:ReplicaKey": "aws_kms_replica_key",
    # lambda
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:lambda/permission:Permission": "aws_lambda_permission",
    # rds
    "aws:rds/cluster:Cluster": "aws_rds_cluster",
    "aws:rds/clusterInstance:ClusterInstance": "aws_rds_cluster_instance",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "aws_rds_cluster_parameter_group",
    "aws:rds/eventSubscription:EventSubscription": "aws_db_event_subscription",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "aws_db_instance_automated_backups_replication",
    "aws:rds/optionGroup:OptionGroup": "aws_db_option_group",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/proxy:Proxy": "aws_db_proxy",
    "aws:rds/roleAssociation:RoleAssociation": "aws_db_instance_role_association",
    "aws:rds/snapshot:Snapshot": "aws_db_snapshot",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    # s3
    "aws:s3/accessPoint:AccessPoint": "aws_s3_access_point",
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": "aws_s3_account_public_access_block",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketAcl:BucketAcl": "aws_s3_bucket_acl",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": "aws_s3_bucket_cors_configuration",
    "aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration": "aws_s3_bucket_intelligent_tiering_configuration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketNotification:BucketNotification": "aws_s3_bucket_notification",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "aws_s3_bucket_object_lock_configuration",
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "aws_s3_bucket_server_side_encryption_configuration",
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration": "aws_s3_bucket_website_configuration",
    "aws:s3/inventory:Inventory": "aws_s3_bucket_inventory",
    # deprecated s3 `*V2` aliases (same Terraform resources) that older programs still use
    "aws:s3/bucketAclV2:BucketAclV2": "aws_s3_bucket_acl",
    "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2": "aws_s3_bucket_cors_configuration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketLoggingV2:BucketLoggingV2": "aws_s3_bucket_logging",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": "aws_s3_bucket_object_lock_configuration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": "aws_s3_bucket_server_side_encryption_configuration",
    "aws:s3/bucketV2:BucketV2": "aws_s3_bucket",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "aws_s3_bucket_versioning",
    "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2": "aws_s3_bucket_website_configuration",
    # secretsmanager
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "aws_secretsmanager_secret_policy",
    "aws:secretsmanager/secretRotation:SecretRotation": "aws_secretsmanager_secret_rotation",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    # securityhub
    "aws:securityhub/account:Account": "aws_securityhub_account",
    "aws:securityhub/actionTarget:ActionTarget": "aws_securityhub_action_target",
    "aws:securityhub/automationRule:AutomationRule": "aws_securityhub_automation_rule",
    "aws:securityhub/findingAggregator:FindingAggregator": "aws_securityhub_finding_aggregator",
    "aws:securityhub/productSubscription:ProductSubscription": "aws_securityhub_product_subscription",
    "aws:securityhub/standardsControl:StandardsControl": "aws_securityhub_standards_control",
    "aws:securityhub/standardsControlAssociation:StandardsControlAssociation": "aws_securityhub_standards_control_association",
    "aws:securityhub/standardsSubscription:StandardsSubscription": "aws_securityhub_standards_subscription",
    # sns, sqs, ssm
    "aws:sns/dataProtectionPolicy:DataProtectionPolicy": "aws_sns_topic_data_protection_policy",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
    "aws:ssm/document:Document": "aws_ssm_document",
    "aws:ssm/parameter:Parameter": "aws_ssm_parameter",
    # wafv2
    "aws:wafv2/ipSet:IpSet": "aws_wafv2_ip_set",
    "aws:wafv2/regexPatternSet:RegexPatternSet": "aws_wafv2_regex_pattern_set",
    "aws:wafv2/ruleGroup:RuleGroup": "aws_wafv2_rule_group",
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "aws_wafv2_web_acl_association",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "aws_wafv2_web_acl_logging_configuration",
}

# Where Pulumi pluralized a Terraform block name (a list block `rule` is the property `rules`), per
# Terraform type, applied at every nesting level of that type. Derived from the pulumi-aws nested
# type names (`BucketLifecycleConfigurationRuleTransitionArgs` -> block `transition`) and checked by
# hand against the Terraform schema: names that are plural in Terraform too (`string_equals`,
# `run_command_targets`, `option_settings`, `tag_specifications`, ...) are deliberately absent.
RENAMES: dict[str, dict[str, str]] = {
    "aws_accessanalyzer_analyzer": {"exclusions": "exclusion", "inclusions": "inclusion"},
    "aws_accessanalyzer_archive_rule": {"filters": "filter"},
    "aws_acm_certificate": {"validation_options": "validation_option"},
    "aws_backup_framework": {"controls": "control", "input_parameters": "input_parameter"},
    "aws_backup_plan": {
        "advanced_backup_settings": "advanced_backup_setting",
        "copy_actions": "copy_action",
        "rules": "rule",
        "scan_actions": "scan_action",
        "scan_settings": "scan_setting",
    },
    "aws_backup_selection": {
        "conditions": "condition",
        "selection_tags": "selection_tag",
        "string_likes": "string_like",
        "string_not_likes": "string_not_like",
    },
    "aws_cloudtrail": {
        "advanced_event_selectors": "advanced_event_selector",
        "data_resources": "data_resource",
        "event_selectors": "event_selector",
        "field_selectors": "field_selector",
        "insight_selectors": "insight_selector",
    },
    "aws_cloudtrail_event_data_store": {
        "advanced_event_selectors": "advanced_event_selector",
        "field_selectors": "field_selector",
    },
    "aws_cloudwatch_event_target": {
        "capacity_provider_strategies": "capacity_provider_strategy",
        "ordered_placement_strategies": "ordered_placement_strategy",
        "pipeline_parameter_lists": "pipeline_parameter_list",
        "placement_constraints": "placement_constraint",
    },
    "aws_cloudwatch_metric_alarm": {"metric_queries": "metric_query"},
    "aws_config_config_rule": {"evaluation_modes": "evaluation_mode", "source_details": "source_detail"},
    "aws_config_configuration_recorder": {"recording_strategies": "recording_strategy"},
    "aws_config_conformance_pack": {"input_parameters": "input_parameter"},
    "aws_config_remediation_configuration": {"parameters": "parameter"},
    "aws_db_option_group": {"options": "option"},
    "aws_db_parameter_group": {"parameters": "parameter"},
    "aws_db_proxy": {"auths": "auth"},
    "aws_default_route_table": {"routes": "route"},
    "aws_ec2_managed_prefix_list": {"entries": "entry"},
    "aws_guardduty_detector_feature": {"additional_configurations": "additional_configuration"},
    "aws_guardduty_filter": {"criterions": "criterion"},
    "aws_guardduty_malware_protection_plan": {"taggings": "tagging"},
    "aws_iam_role": {"inline_policies": "inline_policy"},
    "aws_instance": {
        "ebs_block_devices": "ebs_block_device",
        "ephemeral_block_devices": "ephemeral_block_device",
        "network_interfaces": "network_interface",
    },
    "aws_launch_template": {"license_specifications": "license_specification"},
    "aws_rds_cluster_parameter_group": {"parameters": "parameter"},
    "aws_route_table": {"routes": "route"},
    "aws_s3_bucket": {
        "cors_rules": "cors_rule",
        "grants": "grant",
        "lifecycle_rules": "lifecycle_rule",
        "noncurrent_version_transitions": "noncurrent_version_transition",
        "rules": "rule",
        "transitions": "transition",
    },
    "aws_s3_bucket_acl": {"grants": "grant"},
    "aws_s3_bucket_cors_configuration": {"cors_rules": "cors_rule"},
    "aws_s3_bucket_intelligent_tiering_configuration": {"tierings": "tiering"},
    "aws_s3_bucket_lifecycle_configuration": {
        "noncurrent_version_transitions": "noncurrent_version_transition",
        "rules": "rule",
        "transitions": "transition",
    },
    "aws_s3_bucket_logging": {"target_grants": "target_grant"},
    "aws_s3_bucket_notification": {
        "lambda_functions": "lambda_function",
        "queues": "queue",
        "topics": "topic",
    },
    "aws_s3_bucket_replication_configuration": {"rules": "rule"},
    "aws_s3_bucket_server_side_encryption_configuration": {"rules": "rule"},
    "aws_s3_bucket_website_configuration": {"routing_rules": "routing_rule"},
    "aws_secretsmanager_secret": {"replicas": "replica"},
    "aws_ssm_document": {"attachments_sources": "attachments_source"},
    "aws_vpc_endpoint": {"subnet_configurations": "subnet_configuration"},
    "aws_wafv2_regex_pattern_set": {"regular_expressions": "regular_expression"},
    "aws_wafv2_rule_group": {
        "custom_keys": "custom_key",
        "custom_response_bodies": "custom_response_body",
        "header_orders": "header_order",
        "insert_headers": "insert_header",
        "match_patterns": "match_pattern",
        "response_headers": "response_header",
        "rule_labels": "rule_label",
        "rules": "rule",
        "statements": "statement",
        "text_transformations": "text_transformation",
    },
    "aws_wafv2_web_acl": {
        "custom_keys": "custom_key",
        "custom_response_bodies": "custom_response_body",
        "excluded_rules": "excluded_rule",
        "exempt_uri_regular_expressions": "exempt_uri_regular_expression",
        "header_orders": "header_order",
        "insert_headers": "insert_header",
        "managed_rule_group_configs": "managed_rule_group_config",
        "match_patterns": "match_pattern",
        "request_bodies": "request_body",
        "response_headers": "response_header",
        "rule_action_overrides": "rule_action_override",
        "rule_labels": "rule_label",
        "rules": "rule",
        "statements": "statement",
        "text_transformations": "text_transformation",
    },
    "aws_wafv2_web_acl_logging_configuration": {"conditions": "condition", "filters": "filter"},
}

# Map-typed attributes: their keys are data (tag keys, variable names), never renamed, and their value
# stays a dict instead of becoming a block list. `tags` and `tags_all` are maps on every type.
COMMON_MAP_ATTRIBUTES = frozenset({"tags", "tags_all"})
MAP_ATTRIBUTES: dict[str, frozenset[str]] = {
    "aws_accessanalyzer_analyzer": frozenset({"resource_tags"}),
    "aws_backup_global_settings": frozenset({"global_settings"}),
    "aws_backup_plan": frozenset({"backup_options", "recovery_point_tags"}),
    "aws_backup_region_settings": frozenset(
        {"resource_type_management_preference", "resource_type_opt_in_preference"}
    ),
    "aws_backup_restore_testing_selection": frozenset({"restore_metadata_overrides"}),
    "aws_cloudwatch_event_target": frozenset({"header_parameters", "input_paths", "query_string_parameters"}),
    "aws_cloudwatch_log_metric_filter": frozenset({"dimensions"}),
    "aws_cloudwatch_metric_alarm": frozenset({"dimensions"}),
    "aws_instance": frozenset({"volume_tags"}),
    "aws_kms_grant": frozenset({"encryption_context_equals", "encryption_context_subset"}),
    "aws_lambda_function": frozenset({"variables"}),
    "aws_s3_object": frozenset({"metadata"}),
    "aws_ssm_document": frozenset({"permissions"}),
}

# Attributes that Terraform holds as JSON strings; a Pulumi program may pass them as objects.
JSON_ATTRIBUTES = frozenset(
    {"policy", "assume_role_policy", "access_policy", "access_policies", "policy_document", "event_pattern"}
)

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")
_SNAKE_CACHE: dict[str, str] = {}
_ARN_ATTRIBUTE = re.compile(r"(^|_)arns?$")


def snake_case(name: str) -> str:
    """`kmsMasterKeyId` -> `kms_master_key_id`; digits stay with the word before (`s3BucketName`)."""
    cached = _SNAKE_CACHE.get(name)
    if cached is None:
        cached = _SNAKE_CACHE[name] = _CAMEL_BOUNDARY.sub("_", name).lower()
    return cached


def terraform_name(name: str) -> str:
    """A Terraform identifier from a Pulumi logical name: non-identifier characters become `_`."""
    cleaned = _NON_IDENTIFIER.sub("_", name) or "_"
    return f"_{cleaned}" if cleaned[0].isdigit() else cleaned


def _is_secret(value: dict[str, Any]) -> bool:
    return value.get(_SIG_KEY) == _SECRET_SIG


def _scalar(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN:
        return None
    return value


def _map_value(value: Any) -> Any:
    """A map attribute's value: keys untouched, secrets masked, integral floats made ints."""
    if isinstance(value, dict):
        if _is_secret(value):
            return SECRET_MASK
        return {k: _map_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_value(v) for v in value]
    return _scalar(value)


@dataclass(frozen=True)
class _Shape:
    """How one Terraform type's Pulumi inputs are renamed and shaped."""

    renames: dict[str, str]
    maps: frozenset[str]

    def key(self, pulumi_key: str) -> str:
        snake = snake_case(pulumi_key)
        return self.renames.get(snake, snake)

    def value(self, key: str, value: Any) -> Any:
        if key in self.maps:
            return _map_value(value)
        if isinstance(value, dict):
            if _is_secret(value):
                return SECRET_MASK
            if key in JSON_ATTRIBUTES:
                return json.dumps(_map_value(value))
            return [self.block(value)]
        if isinstance(value, list):
            if key in JSON_ATTRIBUTES and value and not all(isinstance(v, str) for v in value):
                return json.dumps(_map_value(value))
            return [
                self.block(v) if isinstance(v, dict) and not _is_secret(v) else self._item(v) for v in value
            ]
        return _scalar(value)

    def _item(self, value: Any) -> Any:
        if isinstance(value, dict):  # only secrets reach here
            return SECRET_MASK
        if isinstance(value, list):
            return [self._item(v) for v in value]
        return _scalar(value)

    def block(self, obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for pulumi_key, value in obj.items():
            if pulumi_key.startswith("__"):  # engine bookkeeping such as `__defaults`
                continue
            key = self.key(pulumi_key)
            out[key] = self.value(key, value)
        return out


_SHAPES: dict[str, _Shape] = {}


def _shape(tf_type: str) -> _Shape:
    shape = _SHAPES.get(tf_type)
    if shape is None:
        shape = _SHAPES[tf_type] = _Shape(
            renames=RENAMES.get(tf_type, {}),
            maps=COMMON_MAP_ATTRIBUTES | MAP_ATTRIBUTES.get(tf_type, frozenset()),
        )
    return shape


def attribute_name(tf_type: str, pulumi_key: str) -> str:
    """The Terraform attribute name of a Pulumi property of a resource of `tf_type`."""
    return _shape(tf_type).key(pulumi_key)


def terraform_type(record: ResourceRecord, spa: str) -> str:
    """The Terraform type of a custom resource, or UnknownResourceType naming the token."""
    tf_type = TYPE_MAP.get(record.type)
    if tf_type is None:
        raise UnknownResourceType(
            f"{spa}: no Terraform type for Pulumi type {record.type} (resource {record.name!r}); "
            "add it to TYPE_MAP in scripts/plan_bridge.py"
        )
    return tf_type


# ------------------------------------------------------------------------------------ plan structure


@dataclass
class _Module:
    """One Terraform module: the root, or a Pulumi component resource."""

    address: str  # "" for the root, "module.storage" / "module.audit.module.audit_alarms" for children
    name: str
    source: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    config_resources: list[dict[str, Any]] = field(default_factory=list)
    children: list[_Module] = field(default_factory=list)
    child_names: set[str] = field(default_factory=set)

    def planned(self) -> dict[str, Any]:
        planned: dict[str, Any] = {"resources": self.resources}
        if self.address:
            planned = {"address": self.address, **planned}
        if self.children:
            planned["child_modules"] = [child.planned() for child in self.children]
        return planned

    def configuration(self) -> dict[str, Any]:
        config: dict[str, Any] = {"resources": self.config_resources}
        if self.children:
            config["module_calls"] = {
                child.name: {"source": child.source, "module": child.configuration()}
                for child in self.children
            }
        return config


@dataclass
class _Target:
    """What a reference to a bridged resource needs: its address and the values it is known by."""

    ref: str  # "<type>.<name>", module-relative as checkov's flat plan graph expects
    id: str
    arn: str
    names: frozenset[str]  # the id and the name-like values Terraform's `id` equals (bucket, name, key id)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def _known_string(value: Any) -> str:
    return value if isinstance(value, str) and value and value != _UNKNOWN else ""


_NAME_LIKE = ("id", "name", "bucket", "keyId", "identifier")


def _target(record: ResourceRecord, local: str) -> _Target:
    """What a dependent's input may equal when it is this resource's id, name or ARN."""
    outputs = record.outputs or {}
    resource_id = _known_string(record.id) or _known_string(outputs.get("id"))
    names = {resource_id} | {
        _known_string(source.get(key)) for source in (outputs, record.inputs) for key in _NAME_LIKE
    }
    names.discard("")
    return _Target(ref=local, id=resource_id, arn=_known_string(outputs.get("arn")), names=frozenset(names))


def _reference(value: Any, key: str, targets: list[_Target]) -> str | None:
    """The Terraform reference for a value that was wholly another resource's output, else None."""
    if value is None:  # unknown until apply: the dependency is the only thing that can have produced it
        if len(targets) != 1:
            return None
        return f"{targets[0].ref}.{'arn' if _ARN_ATTRIBUTE.search(key) else 'id'}"
    if not isinstance(value, str) or not value:
        return None
    for target in targets:
        if value in target.names:
            return f"{target.ref}.id"
        if value == target.arn:
            return f"{target.ref}.arn"
    if value.startswith("arn:") and not any(c.isspace() for c in value):
        best: _Target | None = None
        for target in targets:
            if target.id and value.endswith(target.id) and (best is None or len(target.id) > len(best.id)):
                best = target
        if best is not None:
            return f"{best.ref}.arn"
    return None


class _Linker:
    """Replaces whole-value outputs of one property by references, remembering which attribute each used."""

    def __init__(self, shape: _Shape, targets: list[_Target]) -> None:
        self.shape = shape
        self.targets = targets
        self.used: dict[str, str] = {}

    def _ref(self, value: Any, key: str, targets: list[_Target]) -> Any:
        ref = _reference(value, key, targets)
        if ref is None:
            return value
        target, _, attribute = ref.rpartition(".")
        self.used.setdefault(target, attribute)
        return ref

    def top(self, key: str, value: Any) -> Any:
        """A top-level attribute: a scalar, a list of scalars (unknowns matched by position) or blocks."""
        if key in self.shape.maps:
            return value
        if isinstance(value, list):
            if value and all(v is None or isinstance(v, str) for v in value):
                positional = len(self.targets) == len(value)
                return [
                    self._ref(item, key, [self.targets[i]] if item is None and positional else self.targets)
                    for i, item in enumerate(value)
                ]
            return [self.nested(key, item) for item in value]
        return self._ref(value, key, self.targets)

    def nested(self, key: str, value: Any) -> Any:
        """Inside blocks only known values are matched: an unknown there could be anything."""
        if isinstance(value, dict):
            return {k: v if k in self.shape.maps else self.nested(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.nested(key, item) for item in value]
        if isinstance(value, str):
            return self._ref(value, key, self.targets)
        return value


def to_plan(records: Sequence[ResourceRecord], *, spa: str) -> dict[str, Any]:
    """A Terraform-plan-shaped dict (`terraform show -json` layout) that checkov's terraform_plan reads."""
    by_urn = {record.urn: record for record in records}
    root = _Module(address="", name="", source="")
    modules: dict[str, _Module] = {}
    names_by_type: dict[str, set[str]] = {}
    placed: list[tuple[ResourceRecord, str, dict[str, Any], dict[str, Any]]] = []
    targets: dict[str, _Target] = {}

    def module_of(urn: str) -> _Module:
        """The module of a component URN, created (with its parents) on first use."""
        found = modules.get(urn)
        if found is not None:
            return found
        component = by_urn.get(urn)
        if component is None or component.type == STACK_TYPE:
            return root
        parent = module_of(component.parent) if component.parent else root
        if component.custom:  # a custom resource parenting others: its children live beside it
            modules[urn] = parent
            return parent
        name = _unique(terraform_name(component.name), parent.child_names)
        address = f"{parent.address}.module.{name}" if parent.address else f"module.{name}"
        module = _Module(address=address, name=name, source=component.type)
        parent.children.append(module)
        modules[urn] = module
        return module

    for record in records:
        if not record.custom or record.type.startswith(PROVIDER_PREFIX) or record.type == STACK_TYPE:
            continue
        tf_type = terraform_type(record, spa)
        name = _unique(terraform_name(record.name), names_by_type.setdefault(tf_type, set()))
        module = module_of(record.parent) if record.parent else root
        local = f"{tf_type}.{name}"
        address = f"{module.address}.{local}" if module.address else local
        resource: dict[str, Any] = {
            "address": address,
            "mode": "managed",
            "type": tf_type,
            "name": name,
            "provider_name": PROVIDER_NAME,
            "schema_version": 0,
        }
        config: dict[str, Any] = {
            "address": local,
            "mode": "managed",
            "type": tf_type,
            "name": name,
            "provider_config_key": "aws",
        }
        module.resources.append(resource)
        module.config_resources.append(config)
        targets[record.urn] = _target(record, local)
        placed.append((record, tf_type, resource, config))

    if not placed:
        raise EmptyPlan(f"{spa}: the plan has no resources; nothing to check")

    for record, tf_type, resource, config in placed:
        shape = _shape(tf_type)
        values = shape.block(record.inputs)
        expressions: dict[str, Any] = {}
        for pulumi_key, urns in record.property_dependencies.items():
            linked = [targets[urn] for urn in urns if urn in targets and urn != record.urn]
            if not linked or pulumi_key.startswith("__"):
                continue
            key = shape.key(pulumi_key)
            linker = _Linker(shape, linked)
            if key in values:
                values[key] = linker.top(key, values[key])
            references: list[str] = []
            for target in linked:
                attribute = linker.used.get(target.ref) or ("arn" if _ARN_ATTRIBUTE.search(key) else "id")
                references.extend((f"{target.ref}.{attribute}", target.ref))
            expressions[key] = {"references": references}
        values["pulumi_protect"] = bool(record.protect)
        values["pulumi_retain_on_delete"] = bool(record.retain_on_delete)
        values["pulumi_urn"] = record.urn
        values["pulumi_name"] = record.name
        resource["values"] = values
        config["expressions"] = expressions

    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "variables": {"spa": {"value": spa}},
        "planned_values": {"root_module": root.planned()},
        # No provider_config: checkov would check a provider block we made up (address aws.default).
        "configuration": {"root_module": root.configuration()},
        # Region singletons the stack adopted instead of creating (infra/detection.py), for CKV_MEDSPA_102-104.
        "pulumi_stack": {"adopted": _adopted(records)},
    }


def _adopted(records: Sequence[ResourceRecord]) -> list[str]:
    """What components recorded under their `adoptedServices` input (a list of service names)."""
    found: set[str] = set()
    for record in records:
        value = None if record.custom else record.inputs.get(ADOPTED_INPUT)
        if isinstance(value, list):
            found.update(service for service in value if isinstance(service, str))
    return sorted(found)
