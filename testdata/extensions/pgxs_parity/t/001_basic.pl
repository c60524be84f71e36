# A Perl TAP test as PostgreSQL's own: a node of its own, made by PostgreSQL::Test::Cluster.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;
is($node->safe_psql('postgres', 'SELECT 1 + 1'), '2', 'the node answers');
$node->stop;
done_testing();
