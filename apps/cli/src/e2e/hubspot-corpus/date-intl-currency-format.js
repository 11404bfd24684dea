// Formats the amount and close date for an email template in the contact's locale.
exports.main = async (event) => {
  const locale = event.inputFields.locale || 'en-US';
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: event.inputFields.currency }).format(Number(event.inputFields.amount));
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(event.inputFields.closedate));
  return { outputFields: { amount_text: money, close_text: date } };
};
