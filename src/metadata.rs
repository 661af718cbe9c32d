//! The OData service's CSDL that `$metadata` answers: the entity type, the
//! entity set, the `reports` singleton and the report function. Built from
//! the property list, so it names what the JSON carries; and the service
//! document of the service root, which lists what the container declares.

use crate::domain::{Property, PropertyKind};

const NAMESPACE: &str = "microsoft.graph";
const ENTITY: &str = "teamsDeviceUsageDistributionUserCounts";
const FUNCTION: &str = "getTeamsDeviceUsageDistributionUserCounts";

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

/// The singleton `reports`, the entity set and the report function, by name:
/// the service document lists what the container declares.
pub const SINGLETON: &str = "reports";
pub const ENTITY_SET: &str = ENTITY;

/// The CSDL document, the same under each version root. Every type reference is written with the
/// namespace, never an alias: generic clients resolve `microsoft.graph.x` alike.
///
/// Every property is declared under both versions, as the JSON carries it
/// under both: only the CSV forms differ (`ApiVersion::has_csv_column`).
pub fn csdl() -> String {
    let properties: Vec<String> = Property::ALL.into_iter().filter_map(property).collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="entity" Abstract="true">
        <Key>
          <PropertyRef Name="id"/>
        </Key>
        <Property Name="id" Type="Edm.String" Nullable="false"/>
      </EntityType>
      <EntityType Name="{ENTITY}" BaseType="{NAMESPACE}.entity">
{properties}
      </EntityType>
      <EntityType Name="reportRoot" BaseType="{NAMESPACE}.entity">
        <NavigationProperty Name="{ENTITY}" Type="Collection({NAMESPACE}.{ENTITY})" ContainsTarget="true"/>
      </EntityType>
      <Function Name="{FUNCTION}" IsBound="true">
        <Parameter Name="bindingParameter" Type="{NAMESPACE}.reportRoot"/>
        <Parameter Name="period" Type="Edm.String" Nullable="false"/>
        <ReturnType Type="Collection({NAMESPACE}.{ENTITY})"/>
      </Function>
      <EntityContainer Name="GraphService">
        <EntitySet Name="{ENTITY_SET}" EntityType="{NAMESPACE}.{ENTITY}"/>
        <Singleton Name="{SINGLETON}" Type="{NAMESPACE}.reportRoot"/>
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"#,
        properties = properties.join("\n")
    )
}

/// The service document (OData JSON Format, 5) of the service root
/// `service_root`: the entity set and the singleton the container declares,
/// each with its URL relative to the root.
pub fn service_document(service_root: &str) -> serde_json::Value {
    serde_json::json!({
        "@odata.context": format!("{service_root}/$metadata"),
        "value": [
            {"name": ENTITY_SET, "kind": "EntitySet", "url": ENTITY_SET},
            {"name": SINGLETON, "kind": "Singleton", "url": SINGLETON},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_property_is_declared() {
        let csdl = csdl();
        for property in Property::ALL {
            assert!(
                csdl.contains(&format!("Name=\"{}\"", property.json_name())),
                "{}",
                property.json_name()
            );
        }
    }

    #[test]
    fn type_references_are_namespace_qualified_and_every_entity_type_has_a_key() {
        let csdl = csdl();
        assert!(!csdl.contains("Alias="), "{csdl}");
        assert!(!csdl.contains("\"graph."), "{csdl}");
        assert!(!csdl.contains("(graph."), "{csdl}");
        // OData 4.0 (CSDL 4.01 6.5): the singleton's type needs a key, inherited here.
        assert!(
            csdl.contains(r#"<EntityType Name="reportRoot" BaseType="microsoft.graph.entity">"#)
        );
        assert!(csdl.contains(r#"<Singleton Name="reports" Type="microsoft.graph.reportRoot"/>"#));
    }

    #[test]
    fn the_service_document_lists_the_container() {
        let document = service_document("http://h/v1.0");
        assert_eq!(document["@odata.context"], "http://h/v1.0/$metadata");
        let kinds: Vec<(&str, &str)> = document["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                (
                    item["name"].as_str().unwrap(),
                    item["kind"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(kinds, [(ENTITY_SET, "EntitySet"), (SINGLETON, "Singleton")]);
    }
}
