// Reads a JSON string a previous action passed through event.fields and picks a value out of it.
exports.main = async (event, callback) => {
  const company = JSON.parse(event.fields.company_json);
  callback({ outputFields: { company_name: company.properties.name, employees: Number(company.properties.numberofemployees) } });
};
