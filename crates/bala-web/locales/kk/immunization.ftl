# immunization pillar
