# welfare pillar
