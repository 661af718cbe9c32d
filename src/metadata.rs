//! The OData service document `$metadata` points at: CSDL (XML) of the entity
//! type, the entity set and the report function, per API version. Built from
//! the property list, so it names what the JSON carries.

use crate::domain::{ApiVersion, Property, PropertyKind};

const ENTITY: &str = "teamsDeviceUsageDistributionUserCounts";

fn property(p: Property) -> Option<String> {
    let (edm_type, nullable) = match p.kind() {
        PropertyKind::Id => return None,
        PropertyKind::Date => ("Edm.Date", false),
        PropertyKind::Count => ("Edm.Int64", false),
        PropertyKind::OptionalCount => ("Edm.Int64", true),
        PropertyKind::Period => ("Edm.String", false),
    };
    Some(format!(
        r#"        <Property Name="{}" Type="{edm_type}" Nullable="{nullable}"/>"#,
        p.json_name()
    ))
}

/// The CSDL document for `version`.
pub fn csdl(version: ApiVersion) -> String {
    let properties: Vec<String> = Property::ALL
        .into_iter()
        .filter(|&p| version.has_property(p))
        .filter_map(property)
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="entity" Abstract="true">
        <Key>
          <PropertyRef Name="id"/>
        </Key>
        <Property Name="id" Type="Edm.String" Nullable="false"/>
      </EntityType>
      <EntityType Name="{ENTITY}" BaseType="graph.entity">
{properties}
      </EntityType>
      <EntityType Name="reportRoot">
        <NavigationProperty Name="{ENTITY}" Type="Collection(graph.{ENTITY})" ContainsTarget="true"/>
      </EntityType>
      <Function Name="getTeamsDeviceUsageDistributionUserCounts" IsBound="true">
        <Parameter Name="bindingParameter" Type="graph.reportRoot"/>
        <Parameter Name="period" Type="Edm.String" Nullable="false"/>
        <ReturnType Type="Collection(graph.{ENTITY})"/>
      </Function>
      <EntityContainer Name="GraphService">
        <Singleton Name="reports" Type="graph.reportRoot"/>
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"#,
        properties = properties.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_alone_has_chrome_os_and_linux() {
        let v1 = csdl(ApiVersion::V1);
        let beta = csdl(ApiVersion::Beta);
        for name in ["reportRefreshDate", "web", "windowsPhone", "reportPeriod"] {
            assert!(v1.contains(&format!("Name=\"{name}\"")), "{name}");
            assert!(beta.contains(&format!("Name=\"{name}\"")), "{name}");
        }
        for name in ["chromeOS", "linux"] {
            assert!(!v1.contains(&format!("Name=\"{name}\"")), "{name}");
            assert!(beta.contains(&format!("Name=\"{name}\"")), "{name}");
        }
    }
}
