//! The six kinds the product serves and the admission operations, named once here so every
//! layer (admission, rules, rendering, CRD generation) speaks of them the same way.

/// The six kinds the product serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Cluster,
    Standalone,
    Backup,
    Restore,
    Database,
    Plugin,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Cluster,
        Kind::Standalone,
        Kind::Backup,
        Kind::Restore,
        Kind::Database,
        Kind::Plugin,
    ];

    /// The kind's name as in `kind:` of a manifest.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Cluster => "Neo4jEnterpriseCluster",
            Kind::Standalone => "Neo4jEnterpriseStandalone",
            Kind::Backup => "Neo4jBackup",
            Kind::Restore => "Neo4jRestore",
            Kind::Database => "Neo4jDatabase",
            Kind::Plugin => "Neo4jPlugin",
        }
    }
    pub const fn plural(self) -> &'static str {
        match self {
            Kind::Cluster => "neo4jenterpriseclusters",
            Kind::Standalone => "neo4jenterprisestandalones",
            Kind::Backup => "neo4jbackups",
            Kind::Restore => "neo4jrestores",
            Kind::Database => "neo4jdatabases",
            Kind::Plugin => "neo4jplugins",
        }
    }
    pub fn from_name(kind: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == kind)
    }
    pub fn from_plural(plural: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.plural() == plural)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Operation> {
        match s {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
            assert_eq!(Kind::from_plural(k.plural()), Some(k));
        }
        assert_eq!(Kind::from_name("Neo4jUser"), None);
    }
}
